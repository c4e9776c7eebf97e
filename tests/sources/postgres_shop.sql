CREATE SCHEMA shop;
CREATE TYPE shop.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN shop.positive_int AS integer CHECK (VALUE > 0);
CREATE DOMAIN shop.short_code AS varchar(8);
CREATE TYPE shop.address AS (street text, zip char(5), geo numeric(9,6)[]);
CREATE TYPE shop.contact AS (name varchar(40), home shop.address);
CREATE TABLE shop.customers (
  id bigint PRIMARY KEY,
  email varchar(120) NOT NULL UNIQUE,
  code char(3),
  balance numeric(12,2),
  ratio double precision,
  score real,
  small smallint,
  plain_numeric numeric,
  created_at timestamptz NOT NULL,
  updated_at timestamp,
  born date,
  alarm time,
  wait interval,
  doc json,
  docb jsonb,
  uid uuid,
  blob bytea,
  ip inet,
  net cidr,
  tags integer[],
  labels text[],
  feeling shop.mood,
  qty shop.positive_int,
  short shop.short_code,
  home shop.address,
  contacts shop.contact[],
  active boolean,
  note text
);
COMMENT ON TABLE shop.customers IS 'People who buy';
COMMENT ON COLUMN shop.customers.email IS 'Where receipts go';
CREATE TABLE shop.orders (
  customer_id bigint NOT NULL REFERENCES shop.customers(id),
  order_no int NOT NULL,
  amount numeric(10,2),
  PRIMARY KEY (customer_id, order_no)
);
CREATE TABLE shop.lines (
  customer_id bigint, order_no int, line int, sku text,
  UNIQUE (customer_id, order_no, line),
  FOREIGN KEY (customer_id, order_no) REFERENCES shop.orders(customer_id, order_no)
);
CREATE TABLE shop.events (id bigint, at timestamptz NOT NULL, kind text) PARTITION BY RANGE (at);
CREATE TABLE shop.events_2025 PARTITION OF shop.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE shop.events_2026 PARTITION OF shop.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE VIEW shop.big_orders AS SELECT customer_id, amount FROM shop.orders WHERE amount > 100;
CREATE MATERIALIZED VIEW shop.order_totals AS SELECT customer_id, sum(amount) AS total FROM shop.orders GROUP BY customer_id;
