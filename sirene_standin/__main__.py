"""python -m sirene_standin [--host 127.0.0.1] [--port 8765] [--key demo-sirene-key] [--quota 30]"""

import argparse
import signal
import sys

from sirene_standin.server import DEFAULT_KEY, DEFAULT_PORT, DEFAULT_QUOTA, StandinServer


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m sirene_standin",
        description="Serveur local qui remplace l’API Sirene 3.11 de l’INSEE (données de démonstration).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="adresse d’écoute (127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT})")
    parser.add_argument(
        "--key", default=DEFAULT_KEY, help=f"clé attendue dans X-INSEE-Api-Key-Integration ({DEFAULT_KEY})"
    )
    parser.add_argument(
        "--quota", type=int, default=DEFAULT_QUOTA, help=f"requêtes par minute et par clé ({DEFAULT_QUOTA})"
    )
    parser.add_argument("--data", default=None, help="fichier JSON des établissements (data.json du paquet)")
    parser.add_argument("--quiet", action="store_true", help="ne pas journaliser chaque requête")
    args = parser.parse_args(argv)

    try:
        server = StandinServer(
            host=args.host,
            port=args.port,
            key=args.key,
            quota=args.quota,
            data_file=args.data,
            verbose=not args.quiet,
        )
    except OSError as error:
        print(
            f"Serveur Sirene local : impossible d’écouter sur {args.host}:{args.port} ({error}).",
            file=sys.stderr,
        )
        return 1
    # `make run` stops it with SIGTERM: leave as cleanly as on Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    print(
        f"Serveur Sirene local : {server.url} (clé « {args.key} », {args.quota} requêtes par minute, "
        f"{len(server.sirets())} établissements)",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
