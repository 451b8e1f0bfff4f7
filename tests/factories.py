from datetime import UTC

import factory
from django.contrib.auth import get_user_model

from chorus.models import Application, Habilitation, Level, Profile
from structures.identifiers import luhn_complete
from structures.models import Attachment, BankAccount, Service, Structure
from users.models import Membership
from users.services import members as user_services

PASSWORD = "Demo-Portail-2026"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"utilisateur{n}@exemple.fr")
    first_name = factory.Faker("first_name", locale="fr_FR")
    last_name = factory.Faker("last_name", locale="fr_FR")
    password = factory.django.Password(PASSWORD)
    is_active = True


class StructureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Structure
        skip_postgeneration_save = True

    identifier_type = Structure.IdentifierType.SIRET
    identifier = factory.Sequence(lambda n: luhn_complete(f"{123456780 + n:09d}0001"))
    company_name = factory.Sequence(lambda n: f"Structure {n}")
    postcode = "75001"
    city = "Paris"
    principal_manager = None
    # An active structure has a principal manager (a database check); without one it
    # waits for its first user, whose attachment activates it (membership_attach).
    status = factory.LazyAttribute(
        lambda o: Structure.Status.ACTIVE if o.principal_manager else Structure.Status.EN_COURS_ACTIVATION
    )

    class Params:
        public = factory.Trait(kind=Structure.Kind.PUBLIQUE)

    @factory.post_generation
    def with_principal_manager(obj, create, extracted, **kwargs):
        """StructureFactory(with_principal_manager=True) or =some_user."""
        if not create or not extracted:
            return
        user = extracted if extracted is not True else UserFactory()
        user_services.membership_attach(user=user, structure=obj)
        obj.refresh_from_db()


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    structure = factory.SubFactory(StructureFactory)
    code = factory.Sequence(lambda n: f"SERVICE_{n}")
    name = factory.Sequence(lambda n: f"Service {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    structure = factory.SubFactory(StructureFactory)
    status = Membership.Status.VALIDEE


def grant(user, structure, application_code, level=Level.CONSULTATION, service=None) -> Habilitation:
    """Give a user a profile on a structure (or one of its services)."""
    profile = Profile.objects.get(application__code=application_code, level=level)
    return Habilitation.objects.create(user=user, structure=structure, service=service, profile=profile)


def attach(user, structure, service=None) -> Membership:
    return user_services.membership_attach(user=user, structure=structure, service=service)


def application(code) -> Application:
    return Application.objects.get(code=code)


def pdf_bytes() -> bytes:
    """A small real PDF: one blank page."""
    from io import BytesIO

    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _french_iban(n) -> str:
    from schwifty import IBAN

    # schwifty computes the RIB key and the IBAN check digits.
    return IBAN.generate("FR", bank_code="30006", branch_code="00001", account_code=f"{n:011d}").compact


class BankAccountFactory(factory.django.DjangoModelFactory):
    """A valid French IBAN with its PDF proof."""

    class Meta:
        model = BankAccount

    structure = factory.SubFactory(StructureFactory)
    name = factory.Sequence(lambda n: f"IBAN {n}")
    kind = BankAccount.Kind.IBAN
    country = "FR"
    iban = factory.Sequence(lambda n: _french_iban(n + 1))
    bic = "BNPAFRPP"
    proof = factory.django.FileField(filename="justificatif.pdf", data=pdf_bytes())
    proof_name = "justificatif.pdf"

    class Params:
        inactive = factory.Trait(is_active=False, deactivated_at=factory.Faker("past_datetime", tzinfo=UTC))
        factor = factory.Trait(
            is_factor=True, factor_name="Affacturage SA", factor_identifier="55208131766522"
        )


class AttachmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Attachment

    structure = factory.SubFactory(StructureFactory)
    file = factory.django.FileField(filename="document.pdf", data=pdf_bytes())
    original_name = factory.Sequence(lambda n: f"document-{n}.pdf")
    content_type = "application/pdf"
    size = factory.LazyAttribute(lambda attachment: attachment.file.size)
