"""Several families at one counter (`sportello console`): each family has its own
identity, its own folder of copies and its own erasure; the application of a family
helped at the counter is opened again by its code, and the documents the social
services ask for are attached there."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from bot.cli import main
from common.counter import FIRST, is_counter
from storage import integrations
from storage.db import open_db
from storage.dossiers import attachments
from tests.test_console_application import DETAILS, DOCUMENTS, OPTION, QUESTIONNAIRE, Counter
from tests.test_console_application import photos as scans_of
from tests.test_erasure import traces_under

Line = str | Callable[[str], str]  # typed as it is, or chosen looking at the screen


def option(fragment: str) -> Callable[[str], str]:
    """The number of the latest option on screen whose label holds `fragment`."""

    def choose(screen: str) -> str:
        for number, label in reversed(OPTION.findall(screen)):
            if fragment in label:
                return number
        raise AssertionError(f"no option {fragment!r} on screen: {screen[-1500:]}")

    return choose


class Typed:
    """Lines typed at the console, each chosen when the screen before it is there."""

    def __init__(self, out: io.StringIO, lines: Iterable[Line]):
        self.out, self.lines = out, lines

    def __iter__(self) -> Iterator[str]:
        for line in self.lines:
            yield line if isinstance(line, str) else line(self.out.getvalue())


def console(lines: Iterable[Line], *options: str) -> str:
    out = io.StringIO()
    code = main(
        ["console", "--today", "2025-06-02", *options],
        out=out,
        err=io.StringIO(),
        stdin=Typed(out, lines),
    )  # type: ignore[arg-type]
    assert code == 0, out.getvalue()[-2000:]
    return out.getvalue()


def soft(fragment: str) -> Callable[[str], str]:
    """An option whose label holds `fragment`, if one is on screen; else the words."""

    def choose(screen: str) -> str:
        try:
            return option(fragment)(screen)
        except AssertionError:
            return fragment

    return choose


def to_documents() -> list[Line]:
    """A family's questions and the form's details, up to the documents (as `Counter`)."""
    return [
        *(soft(q) for q in QUESTIONNAIRE),
        *(soft(d) if d[0].isupper() else d for d in DETAILS),
    ]


@pytest.fixture
def counter_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("SPORTELLO_DATA_DIR", str(data_dir))
    for name in ("SMTP_HOST", "IMAP_HOST"):
        monkeypatch.delenv(name, raising=False)
    return data_dir


def test_two_families_at_one_counter_each_erased_alone(counter_dir: Path, tmp_path: Path):
    scans = tmp_path / "scans"
    scans.mkdir()
    spaced = tmp_path / "Scansioni della famiglia"
    spaced.mkdir()
    # family 1 sends a whole application (no mail server: into the outbox folder)
    out = io.StringIO()
    assert (
        main(
            ["console", "--today", "2025-06-02"],
            out=out,
            err=io.StringIO(),
            stdin=Counter(out, counter_dir, scans),
        )
        == 0
    )  # type: ignore[arg-type]
    first = out.getvalue()
    assert "Allo sportello: famiglia n. 1, nessuna domanda ancora." in first
    assert "/nuova" in first
    db = open_db(counter_dir / "sportello.sqlite3")
    ((dossier_1, user_1),) = db.execute("SELECT id, user_id FROM dossiers").fetchall()
    assert is_counter(user_1) and user_1 == FIRST  # never a Telegram id, never 0
    copies_1 = counter_dir / "console" / dossier_1
    assert {"riepilogo-istanza.json", f"domanda-{dossier_1}.pdf"} <= {
        p.name for p in copies_1.iterdir()
    }
    kept_1 = {p: p.read_bytes() for p in copies_1.iterdir()}
    eml_1 = list((counter_dir / "outbox").rglob("*.eml"))
    assert eml_1

    # the same console, started again: the family open last, its application named
    again = console(["/esci"])
    assert f"Allo sportello: famiglia n. 1, domanda {dossier_1}." in again

    # family 2, the next at the counter: nothing of family 1 is shown
    same_scan = scans_of(spaced, "the same scan", DOCUMENTS[0][1], 10)  # family 1's first
    second = console(
        [
            *to_documents(),
            "/documenti",
            option(DOCUMENTS[0][0]),
            "/allega " + " ".join(f'"{p}"' for p in same_scan),
            "/allega " + scans_of(spaced, "payslip", 1, 77)[0].replace(" ", "\\ "),
            "la ricevuta di ieri",  # no document's name: asked again, nothing lost
            "busta paga",  # a part of one document's name
            "/esci",
        ],
        "--nuova",
    )
    assert "Allo sportello: famiglia n. 2, nessuna domanda ancora." in second
    assert "Bentornati" not in second.split("famiglia n. 2")[1].split("\n\n")[1]
    assert "Grazie. Ora i documenti." in second
    assert "Non trovo il file" not in second  # quoted paths with spaces, or `\\ `
    asked = second.rsplit("Per quale documento", 1)[1]  # the file sent without a choice
    assert "Qui mi servono foto o PDF" not in asked
    again = asked.split("Per rispondere, scrivete il numero di una delle risposte qui sotto.")[1]
    assert "Busta paga dell'assistente" in again.lstrip().split("\n\n")[0]  # the options again
    assert "Busta paga dell'assistente: 1 pagina" in again
    (dossier_2,) = [r[0] for r in db.execute("SELECT id FROM dossiers WHERE id != ?", [dossier_1])]
    assert dossier_2 != dossier_1
    shared = {a["sha256"] for a in attachments(db, dossier_2)}
    assert shared & {a["sha256"] for a in attachments(db, dossier_1)}  # one blob, two families

    # family 2 asks for its data to be erased: family 1's application is untouched
    erased = console(["/cancella_dati", "/esci"])
    assert "famiglia n. 2" in erased and "abbiamo cancellato tutti i vostri dati" in erased
    assert [r[0] for r in db.execute("SELECT id FROM dossiers")] == [dossier_1]
    assert {p: p.read_bytes() for p in copies_1.iterdir()} == kept_1
    assert all(p.exists() for p in eml_1)
    blobs = counter_dir / "files"
    in_use = db.execute(  # family 1's files, the shared scan too; none of family 2's
        "SELECT COUNT(*) FROM (SELECT sha256 FROM attachments UNION SELECT blob FROM outbox)"
    ).fetchone()[0]
    assert len(list(blobs.rglob("*.bin"))) == in_use

    # the social services ask family 1 for a document: at the counter, by its code
    checklist = json.loads(
        db.execute("SELECT data FROM dossiers WHERE id = ?", [dossier_1]).fetchone()[0]
    )["checklist"]
    isee = next(i["id"] for i in checklist if "ISEE" in i["title"])
    db["dossiers"].update(dossier_1, {"status": "consegnata"})
    request = integrations.request_integration(
        db, dossier_1, staff_id=1, items=[f"{isee}:illeggibile"], note="Sig.ra Rossi: ISEE"
    )
    new_isee = spaced / "Attestazione ISEE 2025.jpg"
    new_isee.write_bytes(Path(scans_of(scans, "isee", 1, 99)[0]).read_bytes())
    answered = console(
        [
            f"/allega {new_isee}",  # a name with spaces, typed as it is
            option("Ho mandato tutto"),
            "/esci",
        ],
        "--pratica",
        dossier_1.lower(),
    )
    assert f"famiglia n. 1, domanda {dossier_1}" in answered
    asked = answered.split("famiglia n. 1")[1]
    assert f"I servizi sociali chiedono altri documenti per la domanda {dossier_1}" in asked
    assert "Attestazione ISEE: non si legge" in asked and "Sig.ra Rossi: ISEE" in asked
    assert "Non trovo il file" not in answered
    assert "Grazie! Li passiamo ai servizi sociali." in answered
    status = db.execute(
        "SELECT status FROM integration_requests WHERE id = ?", [request]
    ).fetchone()[0]
    assert status == "answered"

    # and family 1's erasure leaves nothing of it, its copies included
    assert traces_under(counter_dir)
    gone = console(["/cancella_dati", "/esci"], "--pratica", dossier_1)
    assert "abbiamo cancellato tutti i vostri dati" in gone
    assert traces_under(counter_dir) == {}
    assert not copies_1.exists()
    assert db.execute("SELECT COUNT(*) FROM dossiers").fetchone()[0] == 0


def test_an_unknown_application_code_is_said_and_nothing_opens(counter_dir: Path):
    out = io.StringIO()
    code = main(["console", "--pratica", "B2-NOSUCH"], out=out, err=io.StringIO(), stdin=iter([]))  # type: ignore[arg-type]
    assert code == 2
    assert "Non trovo una domanda B2-NOSUCH preparata allo sportello" in out.getvalue()
    screen = console(["/apri B2-NOSUCH", "/esci"])
    assert "Non trovo una domanda B2-NOSUCH" in screen


def test_the_console_of_before_becomes_the_first_family(counter_dir: Path):
    """Answers kept by the single-family console of before (user 0) are taken up."""
    console(["1", "1", "Rozzano", "/esci"])
    db = open_db(counter_dir / "sportello.sqlite3")  # as that console kept them
    db.execute("DROP TABLE counter_families")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm017_families_at_the_counter'")
    db.execute("UPDATE fsm SET key = 'console:0:0' WHERE key = ?", [f"console:{FIRST}:{FIRST}"])
    db.execute("UPDATE users SET user_id = 0 WHERE user_id = ?", [FIRST])
    db.conn.commit()
    db.close()
    screen = console(["/riepilogo", "/esci"])
    assert "famiglia n. 1" in screen and "Rozzano" in screen
    db = open_db(counter_dir / "sportello.sqlite3")
    assert db.execute("SELECT COUNT(*) FROM fsm WHERE key LIKE 'console:0:%'").fetchone()[0] == 0
    assert db.execute("SELECT language FROM users WHERE user_id = ?", [FIRST]).fetchone()[0] == "it"


def ctrl_c_as_at_a_terminal() -> None:
    """The console as started from a terminal: Ctrl-C not ignored (a test run in the
    background, `cmd &`, inherits SIGINT ignored, and so would the console)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def console_process(counter_dir: Path) -> subprocess.Popen[str]:
    """`sportello console` as a process of its own, its pipes open, as from a terminal."""
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("sportello")), "console"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SPORTELLO_DATA_DIR": str(counter_dir), "PYTHONUNBUFFERED": "1"},
        preexec_fn=ctrl_c_as_at_a_terminal,
    )


def test_ctrl_c_at_the_prompt_says_goodbye_without_a_traceback(counter_dir: Path):
    process = console_process(counter_dir)
    assert process.stdin and process.stdout
    process.stdin.write("1\n")  # Italiano: then the privacy notice, and the prompt waits
    process.stdin.flush()
    for line in process.stdout:
        if "Siete d'accordo?" in line:
            break
    time.sleep(1)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "Le risposte restano salvate" in out
    # the next start takes up the same family
    assert "famiglia n. 1," in console(["/esci"])


def test_the_end_of_the_input_says_goodbye_as_esci_does_and_keeps_the_answers(
    counter_dir: Path,
):
    """Ctrl-D at the prompt (family trial 17: it left without a word)."""
    process = console_process(counter_dir)
    out, err = process.communicate("1\n", timeout=60)  # Italiano, then the input ends
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert out.rstrip().endswith("Le risposte restano salvate. A presto!")
    assert "famiglia n. 1," in console(["/esci"])  # the next start takes up the same family


def test_every_chat_word_the_console_replaces_is_one_the_chat_says():
    """The console's words take the place of the chat's messages by their Italian text:
    a message reworded in the chat must be reworded here too, or the console says "tap"."""
    from babel.messages.pofile import read_po

    from bot.console_words import COUNTER_WORDS

    with open(Path(__file__).parent.parent / "dialogs/locales/messages.pot", "rb") as pot:
        known = {m.id for m in read_po(pot) if m.id}
    assert set(COUNTER_WORDS) <= known
    assert set(COUNTER_WORDS.values()) <= known


def test_allega_reads_names_with_spaces_as_a_shell_would_or_as_typed(tmp_path: Path):
    from bot.console import paths_of

    spaced, plain = tmp_path / "Attestazione ISEE 2025.pdf", tmp_path / "ci.jpg"
    spaced.write_bytes(b"%PDF"), plain.write_bytes(b"jpg")
    assert paths_of(f'"{spaced}" {plain}') == [str(spaced), str(plain)]
    assert paths_of(f"{str(spaced).replace(' ', chr(92) + ' ')} {plain}") == [
        str(spaced),
        str(plain),
    ]
    assert paths_of(str(spaced)) == [str(spaced)]  # typed as it is, no quotes
    assert paths_of(f'"{spaced}') == [str(spaced)]  # an unclosed quote
    # not there: said once, whole, not as three files "Attestazione", "ISEE", "2025.pdf"
    assert paths_of(f"{tmp_path}/Verbale INPS.pdf") == [f"{tmp_path}/Verbale INPS.pdf"]
    assert paths_of(f"{plain} {tmp_path}/nope.pdf") == [str(plain), f"{tmp_path}/nope.pdf"]


def test_retention_and_erasure_take_the_counter_copies_with_the_saved_messages(tmp_path: Path):
    """The copies the console wrote for a family (`console/B2-…/`, in clear) go wherever
    the application's saved messages go: erasure, expiry, retention."""
    from dossier.erasure import counter_copies, remove_saved_messages

    copies = counter_copies(tmp_path, "B2-ABC123")
    copies.mkdir(parents=True)
    (copies / "02-carta-d-identita-di-chi-firma.pdf").write_bytes(b"%PDF Rossi")
    other = counter_copies(tmp_path, "B2-XYZ789")
    other.mkdir(parents=True)
    remove_saved_messages(tmp_path / "outbox", "B2-ABC123")
    assert not copies.exists() and other.exists()


def test_ctrl_c_during_a_file_check_says_goodbye_without_a_traceback(counter_dir: Path, tmp_path):
    console([*to_documents(), "/esci"])  # a family at the documents
    scan = scans_of(tmp_path, "ci", 1, 10)[0]
    process = console_process(counter_dir)
    assert process.stdin and process.stdout
    for line in process.stdout:  # the console is up, at the documents
        if "Documenti della domanda" in line:
            break
    process.stdin.write(f"/allega {scan}\n")  # checked in a process of its own
    process.stdin.flush()
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "Le risposte restano salvate" in out
    assert "Per quale documento" not in out and "Ricevuto" not in out  # stopped mid-check


def test_an_application_is_opened_by_its_code_as_people_type_it(counter_dir: Path):
    """Family trial 18: `/apri ZSU9FJ` (without «B2-») found nothing."""
    from storage import counter
    from storage.dossiers import create_dossier

    db = open_db(counter_dir / "sportello.sqlite3")
    family = counter.new_family(db)
    code = create_dossier(
        db, user_id=family, chat_id=family, notice_id="n", municipality="Opera", language="it", data={}
    )
    db.close()
    bare = code.removeprefix("B2-")
    for typed in (bare.lower(), f"b2{bare.lower()}", f" {code.lower()} "):
        db = open_db(counter_dir / "sportello.sqlite3")
        assert counter.family_of(db, typed) == family, typed
        db.close()
    screen = console([f"/apri {bare.lower()}", "/esci"])
    assert f"domanda {code}" in screen and "Non trovo" not in screen
