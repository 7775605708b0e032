"""The dossier: checklist, uploads and their checks, the filled form, assembly and delivery."""
