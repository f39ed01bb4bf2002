-- Second database for the Prefect server (the first, $POSTGRES_DB, holds the altermag store).
CREATE DATABASE prefect;
