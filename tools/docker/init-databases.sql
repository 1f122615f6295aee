-- One database per PostgreSQL-backed subgraph: no subgraph reads another's tables.
CREATE DATABASE users;
CREATE DATABASE orders;
CREATE DATABASE inventory;
CREATE DATABASE insights;
CREATE DATABASE notifications;
