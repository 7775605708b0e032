"""`sportello console` prepares a whole application, as a social worker at the counter
would with the family in front of them: the questions, the form's details, the files
attached by path (`/allega`, several at once), the form to sign written to a file, the
last check, and the send, which lands as an `.eml` in the outbox folder (no mail server)."""

from __future__ import annotations

import email
import email.policy
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

from bot.cli import main
from tests.documents import document_photo, signed_form_photos
from tests.smtp_server import RecordingHandler, smtp_server
from tests.test_bot_dossier import APPLICANT_CF, ASSISTANT, BENEFICIARY_CF, DOCUMENTS, IBAN

QUESTIONNAIRE = [  # Opera, as in the chat's tests (tests/test_bot_conversation.py)
    "Italiano",
    "Sì, accetto",
    "Opera",
    "20/5/1939",
    "Sì",
    "Indennità di accompagnamento",
    "Fatto",
    "Sì, ho l'attestazione",
    "Sociosanitario",
    "9.800,50",
    "SAD",
    "Fatto",
    "Sì",
    "Lo assumiamo noi",
    "30 ore",
    "Sì",
]
DETAILS = [
    "Prepara la domanda",
    "Il figlio o la figlia",
    "maria",
    "rossi",
    APPLICANT_CF.lower(),
    "Via Verdi 5",
    "20089 Rozzano",
    "333 123 4567",
    "Non ce l'ho",
    "Giuseppe",
    "Rossi",
    BENEFICIARY_CF,
    "Via Roma 12",
    "20073",
    "15/01/2025",
    "La persona assistita",
    IBAN,
    ASSISTANT,
]


def photos(folder: Path, name: str, count: int, seed: int) -> list[str]:
    paths = []
    for i in range(count):
        path = folder / f"{name}-{i + 1}.jpg"
        path.write_bytes(document_photo(seed + i))
        paths.append(str(path))
    return paths


OPTION = re.compile(r"^  (\d+)\. (.*)$", re.M)


class Counter:
    """What the social worker types, line by line, looking at the screen (`out`): an
    option is chosen by its number, found by a part of its label as the family reads it."""

    def __init__(self, out: io.StringIO, data_dir: Path, scans: Path):
        self.out, self.data_dir, self.scans = out, data_dir, scans

    def option(self, fragment: str) -> str:
        """The number of the latest option on screen whose label holds `fragment`, or the
        words themselves (typed answers)."""
        for number, label in reversed(OPTION.findall(self.out.getvalue())):
            if fragment in label:
                return number
        return fragment

    def __iter__(self) -> Iterator[str]:
        for line in QUESTIONNAIRE:
            yield self.option(line)
        assert "📝 Prepara la domanda" in self.out.getvalue()
        for line in DETAILS:
            yield self.option(line) if line[0].isupper() else line
        assert "Grazie. Ora i documenti." in self.out.getvalue(), self.out.getvalue()[-1500:]
        yield f"/allega {self.scans / 'nowhere.pdf'}"  # a whole path, but no such file
        assert f"Non trovo il file {self.scans / 'nowhere.pdf'}. Controllate il nome" in (
            self.out.getvalue()
        )
        yield "/allega nowhere.pdf"  # a name without its folder
        assert "Non trovo il file nowhere.pdf. Scrivete il percorso completo." in (
            self.out.getvalue()
        )
        for seed, (label, count) in enumerate(DOCUMENTS):
            yield "/documenti"  # the checklist, each missing document with its number
            yield self.option(label)
            if seed == 0:  # a 30 MB scan: refused in the counter's words, not Telegram's
                heavy = self.scans / "scansione.pdf"
                with heavy.open("wb") as f:
                    f.truncate(30 * 1024 * 1024)
                yield f"/allega {heavy}"
                screen = self.out.getvalue()
                assert "Il file è troppo grande: pesa 30 MB" in screen, screen[-800:]
                assert "come foto e non come file" not in screen
                assert "Allegate una foto del documento" in screen
            yield "/allega " + " ".join(photos(self.scans, f"doc{seed}", count, 10 + 10 * seed))
        yield "/documenti"
        yield self.option("Prepara il modulo da firmare")
        forms = list((self.data_dir / "console").glob("B2-*/domanda-B2-*.pdf"))
        assert len(forms) == 1, self.out.getvalue()[-2000:]
        signed = []
        for i, photo in enumerate(signed_form_photos(forms[0].read_bytes())):
            path = self.scans / f"firmato-{i + 1}.jpg"
            path.write_bytes(photo)
            signed.append(str(path))
        yield "/allega " + " ".join(signed)
        yield self.option("Controlla e invia")
        yield "si invia"  # the label's words, typed without its accent and comma
        yield "grazie"  # a kind word back and where it stands, not the questionnaire's words
        screen = self.out.getvalue()
        assert "Ricevuto, grazie. Ecco a che punto è la domanda:" in screen, screen[-1500:]
        assert "Il risultato è qui sopra" not in screen
        yield "/riepilogo"  # the answers can change; the application sent stays as it was
        screen = self.out.getvalue()
        assert re.search(r"La domanda B2-\w+ è già pronta e chiusa\.", screen), screen[-1500:]
        yield "/esci"


def at_the_counter(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """A counter's data folder and a folder of scans; no mail server, no PEC mailbox."""
    data_dir, scans = tmp_path / "data", tmp_path / "scans"
    scans.mkdir()
    monkeypatch.setenv("SPORTELLO_DATA_DIR", str(data_dir))
    for name in ("SMTP_HOST", "IMAP_HOST"):
        monkeypatch.delenv(name, raising=False)
    return data_dir, scans


def test_console_prepares_a_whole_application_to_an_eml_in_the_outbox(tmp_path, monkeypatch):
    data_dir, scans = at_the_counter(tmp_path, monkeypatch)
    out = io.StringIO()
    code = main(
        ["console", "--today", "2025-06-02"],
        out=out,
        err=io.StringIO(),
        stdin=Counter(out, data_dir, scans),  # type: ignore[arg-type]
    )
    screen = out.getvalue()
    assert code == 0
    assert "Chi firma la domanda?" in screen
    assert "Salvato in" in screen and "domanda-B2-" in screen  # the form to sign, on disk
    # how to photograph the signed pages: whole, their QR code in sight
    assert "con il codice QR in basso a destra: da quello riconosco la pagina" in screen
    assert "protocollo@pec.comune.rozzano.mi.it" in screen  # the last check says where
    # no mail server: said plainly that it did not leave, where it is, what to do
    assert "outbox: " not in screen and "Vi scriviamo qui a ogni passo" not in screen
    assert "NON è partita" in screen
    # the counter's words, not the chat's (family trial 17)
    for chat_words in ("Mandate qui le foto delle pagine firmate", "Riceverete una copia qui"):
        assert chat_words not in screen
    assert "La copia per la famiglia va nella cartella della domanda" in screen
    sent = list((data_dir / "outbox").glob("B2-*/*.eml"))
    assert len(sent) == 1, screen[-3000:]
    message = email.message_from_bytes(sent[0].read_bytes(), policy=email.policy.default)
    assert message["To"] == "protocollo@pec.comune.rozzano.mi.it"
    assert "Rossi Giuseppe" in message["Subject"]
    files = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    manifest = json.loads(files["riepilogo-istanza.json"])
    assert manifest["dossier_id"] in message["Subject"]
    assert len(files) > len(DOCUMENTS)  # every document, the signed form, the manifest
    # the family's copy, beside the form, in the folder of this application only
    copies = {p.name for p in (data_dir / "console" / manifest["dossier_id"]).iterdir()}
    assert "riepilogo-istanza.json" in copies
    assert f"domanda-{manifest['dossier_id']}.pdf" in copies
    # the way to send it, as the console says it, sends it: the PEC mailbox set, then the
    # two commands (family trial 17: `--send` alone left a saved application where it was)
    dossier_id = manifest["dossier_id"]
    said = re.search(r"scrivete (sportello outbox .+?)\. Se no", screen)
    assert said and said.group(1) == (
        f"sportello outbox --requeue {dossier_id} && sportello outbox --send"
    )
    handler = RecordingHandler()
    with smtp_server(handler) as server:
        for name, value in (
            ("SMTP_HOST", "127.0.0.1"),
            ("SMTP_PORT", str(server.port)),
            ("SMTP_SECURITY", "none"),
        ):
            monkeypatch.setenv(name, value)
        for command in said.group(1).split(" && "):
            assert main(command.split()[1:], out=io.StringIO(), err=io.StringIO()) == 0
    assert [m.rcpt_tos for m in handler.messages] == [["protocollo@pec.comune.rozzano.mi.it"]]
    assert dossier_id.encode() in handler.messages[0].data


def test_console_corrects_one_detail_of_the_form_from_its_summary(tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    monkeypatch.setenv("SPORTELLO_DATA_DIR", str(data_dir))
    for name in ("SMTP_HOST", "IMAP_HOST"):
        monkeypatch.delenv(name, raising=False)
    out = io.StringIO()
    counter = Counter(out, data_dir, tmp_path)

    def lines() -> Iterator[str]:
        for line in QUESTIONNAIRE:
            yield counter.option(line)
        for line in DETAILS:
            yield counter.option(line) if line[0].isupper() else line
        yield counter.option("Correggi i dati del modulo")
        yield counter.option("✏️ CAP e Comune di chi firma")
        yield "20073 Opera"
        yield counter.option("Va bene così")
        yield "/esci"

    code = main(
        ["console", "--today", "2025-06-02"],
        out=out,
        err=io.StringIO(),
        stdin=lines(),  # type: ignore[arg-type]
    )
    screen = out.getvalue()
    assert code == 0
    after = screen.partition("I dati del modulo")[2]  # from the first summary on
    assert "✓ 20073 Opera" in after
    assert "Il nome di chi firma" not in after  # only the one detail was asked
    assert "CAP e Comune di chi firma: 20089 Rozzano" in after  # as first typed
    assert "CAP e Comune di chi firma: 20073 Opera" in after  # the summary again
    assert "Documenti della domanda" in after.rpartition("Va bene così")[2]
    # the counter's words (family trial 18): nothing to tap here
    assert "Se un dato è sbagliato, scrivete il suo numero" in screen
    assert "toccatelo" not in screen


def test_a_file_left_without_its_document_is_asked_about_again_and_never_joins_another(
    tmp_path, monkeypatch
):
    """Family trial 18: a file attached without choosing its document, and the console
    left before answering, was never asked about again, could not be attached again
    («già mandato»), and joined the next run's album (one run's album ids were the
    last's): it went to the protocol inside another document."""
    data_dir, scans = at_the_counter(tmp_path, monkeypatch)
    out = io.StringIO()
    counter = Counter(out, data_dir, scans)
    stray = photos(scans, "ricevuta", 1, 70)[0]
    card = photos(scans, "ci", 2, 80)

    def first() -> Iterator[str]:
        for line in QUESTIONNAIRE:
            yield counter.option(line)
        for line in DETAILS:
            yield counter.option(line) if line[0].isupper() else line
        yield f"/allega {stray}"  # no document chosen: which one is it?
        assert "Per quale documento è?" in out.getvalue()
        yield "/esci"  # left without answering

    def second() -> Iterator[str]:
        yield "/documenti"
        assert "Ricevuto: 1 pagina. Per quale documento è?" in out.getvalue().rpartition(
            "Documenti della domanda"
        )[2], out.getvalue()[-1500:]
        yield f"/allega {stray}"  # the same file again: the question, not only «già»
        assert "Per quale documento è?" in out.getvalue().rpartition(stray)[2]
        yield counter.option("Ricevuta dei contributi INPS")
        yield "/documenti"
        yield counter.option("Carta d'identità")
        yield "/allega " + " ".join(card)  # two photos, for the card chosen
        yield "/esci"

    for lines in (first(), second()):
        code = main(
            ["console", "--today", "2025-06-02"],
            out=out,
            err=io.StringIO(),
            stdin=lines,  # type: ignore[arg-type]
        )
        assert code == 0
    last = out.getvalue().rpartition("Mandate ora: Carta d'identità")[2]
    assert "Per quale documento è?" not in last, last  # the two photos of the card chosen
    assert "le metto tutte in «Carta d'identità di chi firma»" in last, last
    from storage.db import open_db
    from storage.dossiers import attachments, dossiers_of

    db = open_db(data_dir / "sportello.sqlite3")
    mine = dossiers_of(db, next(iter(db.query("SELECT user_id FROM dossiers")))["user_id"])
    filed = [a["item_id"] for a in attachments(db, mine[0]["id"]) if not a.get("discarded")]
    db.close()
    assert filed == ["contributions_receipt", "id_card_applicant", "id_card_applicant"]
