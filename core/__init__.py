"""Cross-cutting helpers shared by every app: no models, and no import of any app."""
