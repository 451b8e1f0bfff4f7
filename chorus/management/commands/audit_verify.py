"""Recompute the audit trail's hash chain: proof that no record was edited, deleted,
inserted or reordered since it was written.

`--anchor` prints the last record's id and hash, to be kept outside the database;
`--against` checks later that this record is still there, unchanged: removing the latest
records leaves a valid chain, only such a copy tells."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from chorus import audit

REASONS = {
    "link": "son empreinte précédente ne correspond pas à l’enregistrement qui le précède "
    "(enregistrement supprimé, inséré ou déplacé avant lui)",
    "content": "son contenu ne correspond plus à son empreinte (enregistrement modifié)",
    "reference": "son auteur ou sa structure désigne un autre compte ou une autre structure "
    "que ceux enregistrés (référence modifiée)",
}


def _when(event):
    return timezone.localtime(event.created_at).strftime("%d/%m/%Y %H:%M:%S")


def _broken_message(check: audit.ChainCheck) -> str:
    event = check.broken
    return (
        f"Journal d’audit rompu à l’enregistrement {event.pk} du {_when(event)} "
        f"({event.action}, {event.object_repr}) : {REASONS[check.reason]}. "
        f"{check.count} enregistrement(s) vérifié(s) avant lui."
    )


class Command(BaseCommand):
    help = "Vérifie le chaînage du journal d’audit et nomme le premier enregistrement rompu."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument(
            "--anchor",
            action="store_true",
            help="Affiche l’ancre (identifiant:empreinte du dernier enregistrement), "
            "à conserver hors de la base.",
        )
        group.add_argument(
            "--against",
            metavar="ANCRE",
            help="Vérifie aussi que l’enregistrement ancré (identifiant:empreinte, ou l’empreinte seule) "
            "existe toujours avec cette empreinte.",
        )

    def handle(self, *args, anchor=False, against=None, **options):
        if against is not None:
            return self._against(against)
        check = audit.verify()
        if not check.intact:
            raise CommandError(_broken_message(check))
        if anchor:
            if check.last_id is None:
                raise CommandError("Journal d’audit vide : rien à ancrer.")
            # One line, its first word the anchor: `--against` takes the line as it is.
            self.stdout.write(f"{check.last_id}:{check.last_hash} {check.count} enregistrement(s)")
            return
        self.stdout.write(self.style.SUCCESS(f"Journal d’audit intact : {check.count} enregistrement(s)."))

    def _against(self, value):
        anchor = audit.Anchor.parse(value)
        if anchor is None:
            raise CommandError(
                "Ancre illisible : donnez « identifiant:empreinte » (ou l’empreinte seule, "
                "64 caractères hexadécimaux) telle que --anchor l’a affichée."
            )
        result = audit.check_anchor(anchor)
        problems = []
        if result.found is None:
            named = f"n° {anchor.record_id}" if anchor.record_id is not None else f"d’empreinte {anchor.hash}"
            problems.append(
                f"L’enregistrement ancré {named} n’existe plus : des enregistrements ont été supprimés "
                "(fin du journal coupée) ou réécrits."
            )
        elif not result.anchor_kept:
            problems.append(
                f"L’enregistrement ancré n° {result.found.pk} n’a plus l’empreinte de l’ancre : "
                "il a été réécrit et rescellé."
            )
        if not result.chain.intact:
            problems.append(_broken_message(result.chain))
        if problems:
            raise CommandError(" ".join(problems))
        self.stdout.write(
            self.style.SUCCESS(
                f"Journal d’audit intact jusqu’à l’ancre {result.found.pk} du {_when(result.found)} "
                f"et au-delà : {result.chain.count} enregistrement(s), "
                f"dont {result.since} enregistrement(s) écrit(s) depuis."
            )
        )
