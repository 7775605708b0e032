"""The staff back-office: social services see, download and answer the dossiers of their
comuni, in a browser. One FastAPI app also carries the Telegram webhook and operations."""
