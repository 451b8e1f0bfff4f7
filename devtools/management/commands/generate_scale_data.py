"""Fill an empty, migrated database with synthetic data at Chorus Pro scale.

    python manage.py generate_scale_data --structures 100000 --seed 2026

Same size and seed, same data. See devtools/scale.py for what is generated.
"""

import time

from django.core.management.base import BaseCommand, CommandError

from devtools import scale


class Command(BaseCommand):
    help = "Génère des données synthétiques en volume (structures, comptes, habilitations, tickets…)."

    def add_arguments(self, parser):
        parser.add_argument("--structures", type=int, default=1000, help="Nombre de structures (1000).")
        parser.add_argument("--seed", type=int, default=2026, help="Graine du générateur (2026).")
        parser.add_argument("--no-progress", action="store_true", help="Sans barre de progression.")

    def handle(self, *args, structures, seed, no_progress, **options):
        if structures < 1:
            raise CommandError("Indiquez au moins une structure.")
        progress = None if no_progress else scale.Progress(structures)
        start = time.monotonic()
        try:
            generator = scale.Generator(structures, seed=seed, progress=progress)
            counts = generator.run()
        except ValueError as error:
            raise CommandError(str(error)) from error
        finally:
            if progress:
                progress.close()
        elapsed = time.monotonic() - start
        for name, count in counts.items():
            self.stdout.write(f"{name:>16} {count:>10}")
        self.stdout.write(f"Terminé en {elapsed:.0f} s. Mot de passe des comptes générés : {scale.PASSWORD}")
