"""Seed the two support queues and the ticket categories, as operators then edit them in
the admin. Sub-categories whose label starts with "M" go to business support (AIFE);
the others to portal support (SubCategory.queue_code). The names are marked for translation:
the English interface shows them translated (support.models.translated).

Idempotent (looked up by natural key): tests of transactional kind, whose tables are
emptied between tests, call `seed_support` again."""

from django.db import migrations
from django.utils.translation import gettext_noop

QUEUES = [
    # code, name, recipient shown on the ticket form, order
    ("portail", gettext_noop("Support portail"), gettext_noop("Support du portail"), 1),
    ("metier", gettext_noop("Support métier"), gettext_noop("Support métier (AIFE)"), 2),
]

CATEGORIES = [
    (
        gettext_noop("Factures émises"),
        [
            # name, object type
            (gettext_noop("Déposer une facture"), gettext_noop("Facture")),
            (gettext_noop("Suivre le traitement d’une facture"), gettext_noop("Facture")),
            (gettext_noop("Motif de rejet d’une facture"), gettext_noop("Facture")),
            (gettext_noop("Mise en paiement"), gettext_noop("Facture")),
            (gettext_noop("Corriger ou annuler une facture"), gettext_noop("Facture")),
        ],
    ),
    (
        gettext_noop("Factures reçues"),
        [
            (gettext_noop("Rechercher une facture reçue"), gettext_noop("Facture")),
            (gettext_noop("Traiter une facture reçue"), gettext_noop("Facture")),
            (gettext_noop("Mandatement et mise en paiement"), gettext_noop("Facture")),
            (gettext_noop("Rejet ou suspension d’une facture"), gettext_noop("Facture")),
        ],
    ),
    (
        gettext_noop("Compte et connexion"),
        [
            (gettext_noop("Créer mon compte"), gettext_noop("Compte")),
            (gettext_noop("Activer mon compte"), gettext_noop("Compte")),
            (gettext_noop("Compte bloqué ou mot de passe oublié"), gettext_noop("Compte")),
            (gettext_noop("Changer mon adresse de connexion"), gettext_noop("Compte")),
        ],
    ),
    (
        gettext_noop("Structures et utilisateurs"),
        [
            (gettext_noop("Créer une structure"), gettext_noop("Structure")),
            (gettext_noop("Rattacher un utilisateur"), gettext_noop("Structure")),
            (gettext_noop("Désigner un nouveau gestionnaire principal"), gettext_noop("Structure")),
            (gettext_noop("Gérer les habilitations"), gettext_noop("Structure")),
            (gettext_noop("Paramètres d’une structure publique"), gettext_noop("Structure")),
        ],
    ),
    (
        gettext_noop("Mémoires de frais de justice"),
        [
            (gettext_noop("Déposer un mémoire"), gettext_noop("Mémoire")),
            (gettext_noop("Motif de rejet d’un mémoire"), gettext_noop("Mémoire")),
            (gettext_noop("Catégorie de prestataire"), gettext_noop("Mémoire")),
            (gettext_noop("Mise en paiement d’un mémoire"), gettext_noop("Mémoire")),
        ],
    ),
    (
        gettext_noop("Coordonnées bancaires"),
        [
            (gettext_noop("Ajouter une coordonnée bancaire"), gettext_noop("Coordonnée bancaire")),
            (gettext_noop("Justificatif refusé"), gettext_noop("Coordonnée bancaire")),
            (gettext_noop("Modification des coordonnées bancaires (RIB)"), gettext_noop("Coordonnée bancaire")),
        ],
    ),
]


def seed_support(apps, schema_editor):
    Queue = apps.get_model("support", "Queue")
    Category = apps.get_model("support", "Category")
    SubCategory = apps.get_model("support", "SubCategory")
    for code, name, recipient, order in QUEUES:
        Queue.objects.update_or_create(code=code, defaults={"name": name, "recipient": recipient, "order": order})
    for category_order, (category_name, subcategories) in enumerate(CATEGORIES, start=1):
        category, _created = Category.objects.update_or_create(
            name=category_name, defaults={"order": category_order, "is_active": True}
        )
        for order, (name, object_type) in enumerate(subcategories, start=1):
            SubCategory.objects.update_or_create(
                category=category, name=name, defaults={"object_type": object_type, "order": order}
            )


def unseed_support(apps, schema_editor):
    # Only what nothing refers to yet: a ticket keeps its category.
    SubCategory = apps.get_model("support", "SubCategory")
    Category = apps.get_model("support", "Category")
    names = [name for name, _subcategories in CATEGORIES]
    SubCategory.objects.filter(category__name__in=names, tickets__isnull=True).delete()
    Category.objects.filter(
        name__in=names, subcategories__isnull=True, tickets__isnull=True, chats__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("support", "0001_initial")]

    operations = [migrations.RunPython(seed_support, unseed_support)]
