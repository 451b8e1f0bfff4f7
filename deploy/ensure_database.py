"""Create the PostgreSQL database named in DATABASE_URL if it does not exist yet."""

import os
import sys

import environ
import psycopg
from psycopg import sql


def main():
    config = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    if "postgresql" not in config["ENGINE"]:
        return
    params = {
        key: value
        for key, value in {
            "host": config.get("HOST"),
            "port": config.get("PORT"),
            "user": config.get("USER"),
            "password": config.get("PASSWORD"),
        }.items()
        if value
    }
    try:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
            ).fetchone()
            if not exists:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
                print(f"Base de données {config['NAME']} créée.")
    except psycopg.OperationalError as error:
        sys.exit(f"PostgreSQL injoignable ({error}). Vérifiez DATABASE_URL.")


if __name__ == "__main__":
    main()
