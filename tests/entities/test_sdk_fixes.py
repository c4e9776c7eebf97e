"""The SDK corrections keep the SDK's behaviour: names are still encoded on the way to OM and
decoded on the way back, for every model the SDK transforms."""

from __future__ import annotations

import om_ingest.entities  # noqa: F401  (applies the corrections)


def test_name_transforms_still_apply_after_the_map_is_filled_once() -> None:
    from metadata.generated.schema.api.data.createTable import CreateTableRequest
    from metadata.generated.schema.entity.data.table import Table
    from metadata.ingestion.models import custom_basemodel_validation as validation

    assert validation._initialize_transformable_entities.__name__ == "_already_initialized"
    assert CreateTableRequest in validation.TRANSFORMABLE_ENTITIES
    for _ in range(2):  # the first and any later validation
        request = CreateTableRequest.model_validate(
            {
                "name": "t::1",
                "databaseSchema": "s.d.x",
                "columns": [{"name": 'a::b>"c', "dataType": "INT"}],
            }
        )
        assert request.name.root == validation.replace_separators("t::1") != "t::1"
        column = request.columns[0].name.root
        assert column == validation.replace_separators('a::b>"c') != 'a::b>"c'
        table = Table.model_validate(
            {
                "id": "8b1c0f6e-2f49-4a4e-9a61-3c3d1f0e9a11",
                "name": request.name.root,
                "databaseSchema": {"id": "8b1c0f6e-2f49-4a4e-9a61-3c3d1f0e9a12", "type": "x"},
                "columns": [{"name": column, "dataType": "INT"}],
            }
        )
        assert table.name.root == "t::1" and table.columns[0].name.root == 'a::b>"c'
