-- Where a secret may be used through the broker, and how it travels: a destination
-- (scheme, host, port), a header and a format with {value}. NULL: not usable. Keep in
-- step with ../sqlite/0012_secret_use.sql.

ALTER TABLE secrets ADD COLUMN use_destination TEXT;
ALTER TABLE secrets ADD COLUMN use_header TEXT;
ALTER TABLE secrets ADD COLUMN use_format TEXT;
