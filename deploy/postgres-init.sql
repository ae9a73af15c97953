-- One role and one database per service; no service can read another's tables.
CREATE ROLE telemed LOGIN PASSWORD 'CHANGE_ME';
CREATE DATABASE telemed_gateway OWNER telemed;
CREATE DATABASE telemed_consult OWNER telemed;
