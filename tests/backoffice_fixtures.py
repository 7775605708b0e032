"""A realistic back-office world for the tests: a database with dossiers of several comuni
in every stage (with real photos and PDFs, encrypted in the blob store, a dossier assembled,
queued, sent and delivered with signed PEC receipts), staff accounts, a movable clock,
and a minimal FastAPI app with the back-office router and its static files.

Dossiers are built the way the bot builds them: `Desk.open` with the engine's verdict for
the family's answers (so the checklist is the notice's), `Desk.set_identity`, `Desk.file`
for each upload (the real file checks), then the outbox and the receipts.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from fastapi import FastAPI

from backoffice.app import create_app
from backoffice.deps import Services
from common.settings import Settings
from dialogs.flow import Dialog, facts_of
from dialogs.languages import untranslated
from dossier.assemble import assemble
from dossier.desk import Desk
from dossier.mail import build_messages
from dossier.pec import parse_receipt
from dossier.receipts import record_receipt
from eligibility import Catalogue, check, load_catalogue
from storage import outbox
from storage import staff as accounts
from storage.blobs import BlobStore
from storage.db import open_db
from storage.dossiers import set_status
from tests.documents import document_photo, pdf_document
from tests.pec_messages import build_receipt

NOW = dt.datetime(2025, 6, 16, 8, 0, tzinfo=dt.UTC)  # Monday 16/06/2025, 10:00 in Rome
PASSWORD = "Assistente-Sociale-2025"
PEC_ROZZANO = "protocollo@pec.comune.rozzano.mi.it"
SENDER = "sportello@pec.example.it"
# Cheap argon2id for the tests (the production default costs a third of a second each).
TEST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

_catalogue: Catalogue | None = None


def catalogue() -> Catalogue:
    global _catalogue
    if _catalogue is None:
        _catalogue = load_catalogue()
    return _catalogue


class Clock:
    """An aware UTC "now" the test moves."""

    def __init__(self, now: dt.datetime = NOW):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> dt.datetime:
        self.now += dt.timedelta(**delta)
        return self.now


# -- the families' answers ---------------------------------------------------------------

VISCONTEO = {  # the Opera script of the bot tests: an elderly man with a hired assistant
    "beneficiary.birth_date": "1939-05-20",
    "beneficiary.lives_at_home": True,
    "beneficiary.certifications": ["indennita_accompagnamento"],
    "isee.status": "attestation",
    "isee.kind": "sociosanitario",
    "isee.value": 9800.5,
    "current_measures": ["sad"],
    "assistant.employed": True,
    "assistant.contract": "direct",
    "assistant.weekly_hours": 30,
    "first_application": True,
}
VISCONTEO_NO_SAD = {**VISCONTEO, "current_measures": [], "isee.value": 14200}
MELZO = {  # a woman with 100% invalidity, cared for by her husband
    "beneficiary.birth_date": "1958-11-11",
    "beneficiary.lives_at_home": True,
    "beneficiary.certifications": ["invalidita_100", "legge104_art3c3"],
    "isee.status": "attestation",
    "isee.kind": "sociosanitario",
    "isee.value": 15000,
    "current_measures": [],
    "caregiver.present": True,
    "caregiver.relationship": "spouse",
    "assistant.employed": False,
    "beneficiary.lives_alone": False,
}


def _tax_code(stem: str) -> str:
    from stdnum.it import codicefiscale

    return stem + codicefiscale.calc_check_digit(stem)


def identity(
    applicant: tuple[str, str, str] | None,
    beneficiary: tuple[str, str, str],
    role: str,
    address: str,
) -> dict[str, str]:
    """(given name, family name, codice fiscale stem) of who signs and of the beneficiary;
    `applicant` None when the person signs for themselves."""
    signer = applicant or beneficiary
    ident = {
        "role": role,
        "applicant.given_name": signer[0],
        "applicant.family_name": signer[1],
        "applicant.tax_code": _tax_code(signer[2]),
        "applicant.phone": "+39 333 123 4567",
        "applicant.email": "",
        "beneficiary.address": address,
    }
    if applicant is not None:
        ident.update(
            {
                "beneficiary.given_name": beneficiary[0],
                "beneficiary.family_name": beneficiary[1],
                "beneficiary.tax_code": _tax_code(beneficiary[2]),
            }
        )
    return ident


# -- the world ---------------------------------------------------------------------------


@dataclass
class World:
    services: Services
    app: FastAPI
    clock: Clock
    staff: dict[str, accounts.Staff] = field(default_factory=dict)
    dossiers: dict[str, str] = field(default_factory=dict)  # label -> dossier id
    uploads: dict[int, bytes] = field(default_factory=dict)  # attachment id -> bytes sent
    desk: Desk | None = None

    @property
    def db(self):
        return self.services.db


def make_services(root: Path, clock: Clock, db: Any = None, blobs: BlobStore | None = None):
    settings = Settings(sportello_data_dir=root)
    db = db if db is not None else open_db(root / "sportello.sqlite3")
    if blobs is None:
        blobs = BlobStore(root / "files", b"backoffice-tests-file-key-32byte")
    return Services(db=db, blobs=blobs, catalogue=catalogue(), settings=settings, clock=clock)


def make_app(services: Services) -> FastAPI:
    """The service's app (back-office, static files, error pages), without the webhook."""
    return create_app(services)


def open_dossier(
    world: World,
    *,
    municipality: str,
    answers: dict[str, Any],
    ident: dict[str, str],
    created: dt.datetime,
    user_id: int,
) -> str:
    desk = world.desk
    assert desk is not None
    full = {"municipality": municipality, **answers}
    verdict = check(facts_of(full, created.date()), catalogue())
    assert verdict["notice"]["status"] == "open", verdict["notice"]
    italian = Dialog(catalogue(), created.date(), untranslated, "it")
    dossier_id = desk.open(
        user_id=user_id,
        chat_id=user_id,
        language="it",
        answers=full,
        verdict=verdict,
        lines=italian.lines(full),
    )
    desk.set_identity(dossier_id, ident)
    stamp = created.isoformat(timespec="seconds")
    world.db["dossiers"].update(dossier_id, {"created_at": stamp, "updated_at": stamp})
    return dossier_id


def upload(world: World, dossier_id: str, item_id: str, data: bytes) -> int:
    desk = world.desk
    assert desk is not None
    filed = desk.file(dossier_id, data, item_id=item_id)
    assert filed.outcome == "filed", (item_id, filed.outcome, filed.refusal)
    assert filed.attachment is not None
    # what is kept is the clean copy (a photo re-encoded, a PDF rewritten from its pages)
    world.uploads[int(filed.attachment["id"])] = desk.blobs.get(filed.attachment["sha256"])
    return int(filed.attachment["id"])


def upload_everything(world: World, dossier_id: str, seed: int, *, skip: tuple = ()) -> None:
    """Every checklist item: ID cards as two photos, the signed form as photos of its
    pages, certificates and the ISEE as PDFs, the rest as one photo each."""
    desk = world.desk
    assert desk is not None
    for item in desk.items(desk.get(dossier_id)):
        if item.id in skip:
            continue
        seed += 1
        if item.id.startswith("id_card"):
            upload(world, dossier_id, item.id, document_photo(seed))
            upload(world, dossier_id, item.id, document_photo(seed + 500))
        elif item.id == "application_form":
            upload(world, dossier_id, item.id, document_photo(seed, size=(1240, 1754)))
            upload(world, dossier_id, item.id, document_photo(seed + 700, size=(1240, 1754)))
        elif item.id in ("isee_attestation", "verbale_accompagnamento", "verbale_invalidita"):
            upload(world, dossier_id, item.id, pdf_document(2, text=f"{item.title} {seed}"))
        else:
            upload(world, dossier_id, item.id, document_photo(seed, size=(1000, 1400)))


def send_and_deliver(world: World, dossier_id: str, queued: dt.datetime) -> None:
    """Assemble, queue, send (as the outbox worker records it) and get the PEC receipts:
    accepted, then delivered to the protocol inbox."""
    desk = world.desk
    assert desk is not None
    built = assemble(**desk.assembly_inputs(dossier_id, queued, 25))
    messages = build_messages(
        built,
        sender=SENDER,
        recipient=PEC_ROZZANO,
        subject=f"Domanda Misura B2 – pratica {dossier_id}",
        body="Al Comune.\n",
        date=queued,
    )
    db = world.db
    outbox.enqueue(db, world.services.blobs, dossier_id, messages, PEC_ROZZANO, now=queued)
    sent = queued + dt.timedelta(seconds=5)
    for row in outbox.rows_of(db, dossier_id):
        assert outbox.mark_sending(db, row["id"], sent)
        set_status(db, dossier_id, "in_invio", {"parts": row["parts"]}, at=sent.isoformat())
        assert outbox.mark_sent(db, row["id"], sent + dt.timedelta(seconds=2))
    outbox.finish_if_done(db, dossier_id, sent + dt.timedelta(seconds=2))
    rome = dt.timezone(dt.timedelta(hours=2))
    for mid, raw in messages:
        subject = email.message_from_bytes(raw, policy=email.policy.default)["Subject"]
        for kind, minutes in (("accettazione", 1), ("avvenuta-consegna", 2)):
            receipt = build_receipt(
                kind,
                mid,
                at=(sent + dt.timedelta(minutes=minutes)).astimezone(rome),
                recipient=PEC_ROZZANO,
                subject=subject,
            )
            parsed = parse_receipt(receipt)
            assert parsed is not None
            assert record_receipt(db, world.services.blobs, receipt, parsed) == dossier_id


def move(world: World, dossier_id: str, steps: list[tuple[str, dict, dt.datetime]]) -> None:
    for status, detail, at in steps:
        set_status(world.db, dossier_id, status, detail, at=at.isoformat(timespec="seconds"))


def build_world(root: Path, clock: Clock | None = None) -> World:
    """The database of an ambito's back-office, on 16/06/2025:

    - `delivered` Opera, Giuseppe Rossi (his daughter Maria signs): every document, sent
      by PEC and delivered (outbox row, acceptance and delivery receipts);
    - `sent` Rozzano, Ernesta Cantù signs for herself: sent, not delivered yet; her ID
      card is missing a page;
    - `error` Opera, Franco D'Angelo: refused by the PEC provider;
    - `ready` Rozzano, Luigi Bianchi: queued (pronta), not sent yet;
    - `draft` Opera, Anna Verdi: still a draft in the chat (staff never see drafts);
    - `binasco` Binasco, Carla Colombo: delivered, another comune of the same notice;
    - `melzo` Melzo, Pietro Galli (his wife signs): another ambito and notice.

    Staff: `opera` (Opera and Rozzano), `binasco` (Binasco), `coordinator` (Opera,
    Rozzano, Binasco, Melzo) and `admin` (an administrator with Opera only).
    """
    clock = clock or Clock()
    services = make_services(root, clock)
    world = World(services=services, app=make_app(services), clock=clock)
    world.desk = Desk(services.db, services.blobs, services.catalogue)
    db = services.db
    day = dt.datetime(2025, 6, 2, 9, 30, tzinfo=dt.UTC)

    world.staff = {}
    for label, email_address, comuni, admin in (
        ("opera", "a.rossi@comune.opera.mi.it", ["Opera", "Rozzano"], False),
        ("binasco", "servizi.sociali@comune.binasco.mi.it", ["Binasco"], False),
        (
            "coordinator",
            "ufficio.piano@visconteo.example.it",
            ["Opera", "Rozzano", "Binasco", "Melzo"],
            False,
        ),
        ("admin", "admin@sportello.example.it", ["Opera"], True),
    ):
        staff_id = accounts.add_staff(db, email_address, PASSWORD, comuni, admin, now=day)
        staff = accounts.get_staff(db, staff_id)
        assert staff is not None
        world.staff[label] = staff

    # delivered: Opera, the daughter signs
    d = open_dossier(
        world,
        municipality="Opera",
        answers=VISCONTEO,
        ident=identity(
            ("Maria", "Rossi", "RSSMRA70A41F205"),
            ("Giuseppe", "Rossi", "RSSGPP39E20F205"),
            "child",
            "Via Roma 12",
        ),
        created=day,
        user_id=4242,
    )
    upload_everything(world, d, 10)
    send_and_deliver(world, d, day + dt.timedelta(days=1, hours=1))
    world.dossiers["delivered"] = d

    # sent: Rozzano, she signs for herself; the back of her ID card is missing
    d = open_dossier(
        world,
        municipality="Rozzano",
        answers=VISCONTEO_NO_SAD,
        ident=identity(None, ("Ernesta", "Cantù", "CNTRST39E60H470"), "self", "Via Cavour 3"),
        created=day + dt.timedelta(days=2),
        user_id=4343,
    )
    upload_everything(world, d, 40, skip=("id_card_applicant",))
    upload(world, d, "id_card_applicant", document_photo(77))
    t = day + dt.timedelta(days=3)
    move(
        world,
        d,
        [
            ("pronta", {"parts": 1}, t),
            ("in_invio", {"parts": 1}, t + dt.timedelta(seconds=5)),
            ("inviata", {"recipient": PEC_ROZZANO}, t + dt.timedelta(seconds=9)),
        ],
    )
    world.dossiers["sent"] = d

    # error: Opera, refused by the PEC provider
    d = open_dossier(
        world,
        municipality="Opera",
        answers=VISCONTEO,
        ident=identity(
            ("Lucia", "D'Angelo", "DNGLCU72M50F205"),
            ("Franco", "D'Angelo", "DNGFNC38A01F205"),
            "child",
            "Via Dante 8",
        ),
        created=day + dt.timedelta(days=4),
        user_id=4444,
    )
    upload(world, d, "isee_attestation", pdf_document(1, text="ISEE D'Angelo"))
    t = day + dt.timedelta(days=5)
    move(
        world,
        d,
        [
            ("pronta", {"parts": 1}, t),
            ("errore", {"kind": "non-accettazione", "error": "casella piena"}, t),
        ],
    )
    world.dossiers["error"] = d

    # ready: Rozzano, queued
    d = open_dossier(
        world,
        municipality="Rozzano",
        answers=VISCONTEO,
        ident=identity(
            ("Paola", "Bianchi", "BNCPLA68C41H470"),
            ("Luigi", "Bianchi", "BNCLGU35H10H470"),
            "child",
            "Viale Lombardia 40",
        ),
        created=day + dt.timedelta(days=6),
        user_id=4545,
    )
    upload(world, d, "payslip", document_photo(91, size=(900, 1200)))
    move(world, d, [("pronta", {"parts": 1}, day + dt.timedelta(days=6, hours=2))])
    world.dossiers["ready"] = d

    # draft: Opera, still in the chat
    d = open_dossier(
        world,
        municipality="Opera",
        answers=VISCONTEO,
        ident=identity(None, ("Anna", "Verdi", "VRDNNA40A41F205"), "self", "Via Verdi 1"),
        created=day + dt.timedelta(days=7),
        user_id=4646,
    )
    world.dossiers["draft"] = d

    # binasco: another comune of the same ambito, delivered
    d = open_dossier(
        world,
        municipality="Binasco",
        answers=VISCONTEO,
        ident=identity(
            ("Marco", "Colombo", "CLMMRC66A01A872"),
            ("Carla", "Colombo", "CLMCRL37A41A872"),
            "child",
            "Via Matteotti 5",
        ),
        created=day + dt.timedelta(days=1),
        user_id=4747,
    )
    upload(world, d, "verbale_accompagnamento", pdf_document(1, text="Verbale Colombo"))
    upload(world, d, "id_card_applicant", document_photo(201))
    t = day + dt.timedelta(days=2)
    move(
        world,
        d,
        [
            ("pronta", {"parts": 1}, t),
            ("inviata", {"recipient": PEC_ROZZANO}, t + dt.timedelta(seconds=9)),
            ("consegnata", {"recipient": PEC_ROZZANO}, t + dt.timedelta(minutes=2)),
        ],
    )
    world.dossiers["binasco"] = d

    # melzo: another ambito (applications on the ambito's platform)
    d = open_dossier(
        world,
        municipality="Melzo",
        answers=MELZO,
        ident=identity(
            ("Rita", "Galli", "GLLRTI60A41F119"),
            ("Pietro", "Galli", "GLLPTR58S11F119"),
            "spouse",
            "Via Mazzini 2",
        ),
        created=day + dt.timedelta(days=1),
        user_id=4848,
    )
    upload(world, d, "verbale_invalidita", pdf_document(1, text="Verbale Galli"))
    move(world, d, [("pronta", {"parts": 1}, day + dt.timedelta(days=1, hours=3))])
    world.dossiers["melzo"] = d
    return world


def copy_world(template: World, root: Path) -> World:
    """A world of its own for one test, copied from one built once (building takes half a
    second: the photos, the assembly, the signed receipts)."""
    template.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    source = template.services.settings.sportello_data_dir
    shutil.copytree(source, root, ignore=shutil.ignore_patterns("*-wal", "*-shm"))
    clock = Clock()
    services = make_services(root, clock)
    world = World(
        services=services,
        app=make_app(services),
        clock=clock,
        staff=dict(template.staff),
        dossiers=dict(template.dossiers),
        uploads=template.uploads,
    )
    world.desk = Desk(services.db, services.blobs, services.catalogue)
    return world
