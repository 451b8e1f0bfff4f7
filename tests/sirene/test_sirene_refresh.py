"""python manage.py sirene_refresh: batches of SIRETs per search call (counted on the
stand-in), the summary, the progress bar, resuming."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from chorus.models import AuditEvent
from structures.identifiers import luhn_complete
from structures.models import Structure
from tests import factories

pytestmark = pytest.mark.django_db

COMPANY = "81234567600017"
FORMER = "38512749300018"
COMMUNE = "21180026300017"


def refresh(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("sirene_refresh", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def sirets(count):
    """Valid SIRETs (SIREN and SIRET checksums) the stand-in does not know."""
    return [luhn_complete(luhn_complete(f"{60000000 + n:08d}") + "0001") for n in range(count)]


def searches(standin):
    return [r for r in standin.requests if r["path"].endswith("/siret")]


def test_250_structures_take_3_search_calls_of_at_most_100_sirets(standin):
    for siret in [COMPANY, FORMER, *sirets(248)]:
        factories.StructureFactory(identifier=siret)
    out, err = refresh()
    calls = searches(standin)
    assert len(calls) == standin.request_count == 3
    assert [call["query"]["q"].count("siret:") for call in calls] == [100, 100, 50]
    assert "250 structure(s) vérifiée(s) en 3 requête(s)" in out
    assert "250/250 (100 %)" in err


def test_batch_option_sets_the_size_of_each_call(standin):
    for siret in sirets(5):
        factories.StructureFactory(identifier=siret)
    refresh("--batch", "2")
    assert [call["query"]["q"].count("siret:") for call in searches(standin)] == [2, 2, 1]


@pytest.mark.parametrize("batch", ["0", "101"])
def test_batch_is_between_1_and_100(standin, batch):
    with pytest.raises(CommandError, match="entre 1 et 100"):
        refresh("--batch", batch)


def test_summary_lists_changed_and_closed_structures_through_the_page_code(standin):
    company = factories.StructureFactory(identifier=COMPANY, company_name="Atelier Textile du Nord")
    factories.StructureFactory(identifier=FORMER, company_name="Ancienne Menuiserie Lefèvre")
    unknown = factories.StructureFactory(identifier=sirets(1)[0])
    factories.StructureFactory(identifier="IMM-2026-1", identifier_type=Structure.IdentifierType.AUTRE)
    standin.update(COMPANY, {"adresseEtablissement": {"libelleCommuneEtablissement": "Lille"}})
    out, _err = refresh()
    assert "Structures modifiées : 2" in out
    assert f"{COMPANY} Atelier Textile du Nord : " in out and "ville" in out
    assert "Établissements fermés à l’INSEE : 1" in out
    assert f"{FORMER} Ancienne Menuiserie Lefèvre (fermé depuis le 30/06/2023 ; toujours active" in out
    assert f"SIRET inconnus de la base INSEE : 1\n  {unknown.identifier}" in out
    company.refresh_from_db()
    assert company.city == "Lille" and company.insee_updated_at is not None
    event = AuditEvent.objects.get(action="structure_insee_update", structure=company)
    assert event.changes["city"] == {"before": "Paris", "after": "Lille"}
    assert event.actor is None
    unknown.refresh_from_db()
    assert unknown.insee_updated_at is None


def test_identifiers_limit_the_refresh(standin):
    factories.StructureFactory(identifier=COMPANY)
    factories.StructureFactory(identifier=FORMER)
    out, _err = refresh("--identifiers", "812 345 676 00017")
    assert searches(standin)[0]["query"]["q"] == f"siret:{COMPANY}"
    assert "1 structure(s) vérifiée(s)" in out


def test_since_resumes_after_an_interruption(standin):
    done = factories.StructureFactory(identifier=COMPANY, insee_updated_at=timezone.now())
    left = factories.StructureFactory(identifier=FORMER)
    out, _err = refresh("--since", (done.insee_updated_at - timedelta(minutes=5)).isoformat())
    assert searches(standin)[0]["query"]["q"] == f"siret:{left.identifier}"
    assert "1 structure(s) vérifiée(s)" in out
    standin.clear_requests()
    out, _err = refresh("--since", timezone.localdate().isoformat())
    assert standin.request_count == 0
    assert "0 structure(s) vérifiée(s) en 0 requête(s)" in out


def test_structures_refreshed_during_the_run_are_skipped(standin):
    factories.StructureFactory(identifier=COMPANY, insee_updated_at=timezone.now() + timedelta(hours=1))
    factories.StructureFactory(identifier=FORMER)
    out, _err = refresh()
    assert searches(standin)[0]["query"]["q"] == f"siret:{FORMER}"
    assert "Déjà mises à jour pendant l’exécution (ignorées) : 1" in out


def test_register_down_stops_with_a_resume_hint(standin):
    factories.StructureFactory(identifier=COMPANY)
    standin.stop()
    with pytest.raises(CommandError) as raised:
        refresh()
    assert "indisponible" in str(raised.value)
    assert "Pour reprendre : python manage.py sirene_refresh --since " in str(raised.value)


def test_since_must_be_a_date(standin):
    with pytest.raises(CommandError, match="ISO 8601"):
        refresh("--since", "hier")


def test_refresh_corrects_an_establishment_abroad_recorded_in_france(standin):
    structure = factories.StructureFactory(identifier=COMPANY, country="FR")
    standin.update(
        COMPANY,
        {
            "adresseEtablissement": {
                "codePostalEtablissement": None,
                "libelleCommuneEtablissement": None,
                "codeCommuneEtablissement": None,
                "libelleCommuneEtrangerEtablissement": "MONACO",
                "codePaysEtrangerEtablissement": "99138",
                "libellePaysEtrangerEtablissement": "MONACO",
            }
        },
    )
    out, _err = refresh()
    structure.refresh_from_db()
    assert (structure.country, structure.country_label, structure.city) == ("MC", "Monaco", "MONACO")
    assert "pays" in out
