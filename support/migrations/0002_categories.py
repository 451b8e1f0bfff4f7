"""Seed the two support queues and the ticket categories, as operators then edit them in
the admin. Sub-categories whose label starts with "M" go to business support (AIFE);
the others to portal support (SubCategory.queue_code).

Idempotent (looked up by natural key): tests of transactional kind, whose tables are
emptied between tests, call `seed_support` again."""

from django.db import migrations

QUEUES = [
    # code, name, recipient shown on the ticket form, order
    ("portail", "Support portail", "Support du portail", 1),
    ("metier", "Support métier", "Support métier (AIFE)", 2),
]

CATEGORIES = [
    (
        "Factures émises",
        [
            # name, object type
            ("Déposer une facture", "Facture"),
            ("Suivre le traitement d’une facture", "Facture"),
            ("Motif de rejet d’une facture", "Facture"),
            ("Mise en paiement", "Facture"),
            ("Corriger ou annuler une facture", "Facture"),
        ],
    ),
    (
        "Factures reçues",
        [
            ("Rechercher une facture reçue", "Facture"),
            ("Traiter une facture reçue", "Facture"),
            ("Mandatement et mise en paiement", "Facture"),
            ("Rejet ou suspension d’une facture", "Facture"),
        ],
    ),
    (
        "Compte et connexion",
        [
            ("Créer mon compte", "Compte"),
            ("Activer mon compte", "Compte"),
            ("Compte bloqué ou mot de passe oublié", "Compte"),
            ("Changer mon adresse de connexion", "Compte"),
        ],
    ),
    (
        "Structures et utilisateurs",
        [
            ("Créer une structure", "Structure"),
            ("Rattacher un utilisateur", "Structure"),
            ("Désigner un nouveau gestionnaire principal", "Structure"),
            ("Gérer les habilitations", "Structure"),
            ("Paramètres d’une structure publique", "Structure"),
        ],
    ),
    (
        "Mémoires de frais de justice",
        [
            ("Déposer un mémoire", "Mémoire"),
            ("Motif de rejet d’un mémoire", "Mémoire"),
            ("Catégorie de prestataire", "Mémoire"),
            ("Mise en paiement d’un mémoire", "Mémoire"),
        ],
    ),
    (
        "Coordonnées bancaires",
        [
            ("Ajouter une coordonnée bancaire", "Coordonnée bancaire"),
            ("Justificatif refusé", "Coordonnée bancaire"),
            ("Modification des coordonnées bancaires (RIB)", "Coordonnée bancaire"),
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
