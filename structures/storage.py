"""Where the structures' files are stored (core.storage): each kind in its own folder,
under a random name."""

from core.storage import random_name
from core.uploads import file_extension


def bank_proof_path(instance, filename):
    # The validator accepts nothing but a PDF as a proof.
    return random_name("bank-proofs", "pdf")


def claim_proof_path(instance, filename):
    # Only a PDF is accepted as the proof of a claim.
    return random_name("claim-proofs", "pdf")


def attachment_path(instance, filename):
    return random_name("attachments", file_extension(filename) or "bin")
