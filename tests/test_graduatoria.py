"""The graduatoria of a notice: ten dossiers of the Visconteo Sud Milano notice (001),
scores of the home assessment entered through the dossier page, exported as CSV, XLSX and
ODS and read back: order, points and tie-breaks as the notice's tables (Art. 5, Art. 6)
say. And the notice 004 rule that only separates applications delivered the same day."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from dialogs.flow import facts_of
from dossier.desk import Desk
from eligibility.ranking import UNRESOLVED, Candidate, rank
from storage import staff as accounts
from tests.backoffice_fixtures import (
    PASSWORD,
    TEST_HASHER,
    VISCONTEO,
    Clock,
    World,
    catalogue,
    identity,
    make_app,
    make_services,
    move,
    open_dossier,
)

DAY = dt.datetime(2025, 6, 2, 7, 0, tzinfo=dt.UTC)
ISEE_TIE = "A parità di punteggio, prima l'ISEE più basso."
ARRIVAL_TIE = "A parità di punteggio e di ISEE, l'ordine di arrivo della domanda."
# label: (ISEE, ADL functions kept, IADL functions kept) -> points 30/20/10, 20/10/5/0, 40/30/20/10
FAMILIES: dict[str, tuple[float, int | None, int | None]] = {
    "A": (5000, 0, 1),  # 30 + 20 + 40 = 90
    "B": (9000.5, 0, 1),  # 20 + 20 + 40 = 80
    "C": (8000, 2, 1),  # 30 + 10 + 40 = 80: lower ISEE than B, first
    "D": (12000, 2, 3),  # 20 + 10 + 30 = 60, arrived before E
    "E": (12000, 2, 3),  # 60, same ISEE: after D by arrival
    "F": (20000, 4, 5),  # 10 + 5 + 20 = 35
    "G": (16000, 6, 7),  # 20 + 0 + 10 = 30
    "H": (24000, 1, 0),  # 10 + 20 + 40 = 70
    "I": (7000, None, None),  # no home visit yet: no total, no position
    "J": (3000, 0, 0),  # excluded
}
ORDER = ["A", "C", "B", "H", "D", "E", "F", "G", "I", "J"]
TOTALS = {"A": 90, "B": 80, "C": 80, "D": 60, "E": 60, "F": 35, "G": 30, "H": 70, "J": 90}
SURNAMES = {
    "A": "Airoldi", "B": "Brambilla", "C": "Colombo", "D": "Dell'Orto", "E": "Esposito",
    "F": "Fumagalli", "G": "Galli", "H": "Hofer", "I": "Invernizzi", "J": "Jemoli",
}  # fmt: skip


@pytest.fixture
def ten(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[World, dict[str, str]]]:
    monkeypatch.setattr(accounts, "hasher", TEST_HASHER)
    clock = Clock(dt.datetime(2025, 7, 1, 8, 0, tzinfo=dt.UTC))
    services = make_services(tmp_path / "var", clock)
    world = World(services=services, app=make_app(services), clock=clock)
    world.desk = Desk(services.db, services.blobs, services.catalogue)
    for label, comuni, admin in (
        ("opera", ["Opera", "Rozzano"], False),
        ("binasco", ["Binasco"], False),
        ("admin", ["Opera"], True),
    ):
        sid = accounts.add_staff(services.db, f"{label}@example.it", PASSWORD, comuni, admin)
        world.staff[label] = accounts.get_staff(services.db, sid)  # type: ignore[assignment]
    ids = {}
    for n, (label, (isee, _adl, _iadl)) in enumerate(FAMILIES.items()):
        comune = "Opera" if n % 2 else "Rozzano"
        letters = re.sub(r"[^A-Z]", "", SURNAMES[label].upper()) + "XXX"
        code = letters[:3] + "PIA" + f"39E{41 + n}F205"  # women born in May 1939
        dossier_id = open_dossier(
            world,
            municipality=comune,
            answers={**VISCONTEO, "isee.value": isee},
            ident=identity(None, ("Pia", SURNAMES[label], code), "self", "Via Roma 1"),
            created=DAY,
            user_id=5000 + n,
        )
        # D arrives an hour before E; every other one in order
        sent = DAY + dt.timedelta(hours=n)
        move(
            world,
            dossier_id,
            [
                ("pronta", {}, sent),
                ("inviata", {"recipient": "protocollo@pec.example.it"}, sent),
                ("consegnata", {"recipient": "protocollo@pec.example.it"}, sent),
            ],
        )
        world.db["dossiers"].update(
            dossier_id, {"protocol_number": f"2025/{100 + n}", "protocol_date": "2025-06-20"}
        )
        ids[label] = dossier_id
    yield world, ids
    services.db.close()


@asynccontextmanager
async def _client(world: World, label: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=world.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        page = await client.get("/login")
        done = await client.post(
            "/login",
            data={"email": f"{label}@example.it", "password": PASSWORD, "csrf": _csrf(page.text)},
        )
        assert done.status_code == 303
        yield client


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]*)"', html).group(1)  # type: ignore[union-attr]


def _ods_rows(data: bytes) -> list[list[str]]:
    from odf.opendocument import load
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = load(io.BytesIO(data))
    [table] = doc.spreadsheet.getElementsByType(Table)
    rows = []
    for tr in table.getElementsByType(TableRow):
        cells = []
        for cell in tr.getElementsByType(TableCell):
            value = cell.getAttribute("value")
            text = "".join(str(p) for p in cell.getElementsByType(P))
            cells.append(value if value is not None else text)
        rows.append(cells)
    return rows


def _ods_cells(data: bytes) -> list[list[dict[str, Any]]]:
    from odf.opendocument import load
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    doc = load(io.BytesIO(data))
    [table] = doc.spreadsheet.getElementsByType(Table)
    return [
        [
            {
                "type": cell.getAttribute("valuetype"),
                "date": cell.getAttribute("datevalue"),
                "style": cell.getAttribute("stylename"),
                "text": "".join(str(p) for p in cell.getElementsByType(P)),
            }
            for cell in tr.getElementsByType(TableCell)
        ]
        for tr in table.getElementsByType(TableRow)
    ]


def _ods_data_style(data: bytes, cell_style: str) -> tuple[str, str]:
    """(decimal places, grouping) of the number style a cell style points to."""
    from odf.number import Number, NumberStyle
    from odf.opendocument import load
    from odf.style import Style

    doc = load(io.BytesIO(data))
    styles = {s.getAttribute("name"): s for s in doc.automaticstyles.getElementsByType(Style)}
    name = styles[cell_style].getAttribute("datastylename")
    [style] = [
        s
        for s in doc.automaticstyles.getElementsByType(NumberStyle)
        if s.getAttribute("name") == name
    ]
    [number] = style.getElementsByType(Number)
    return number.getAttribute("decimalplaces"), number.getAttribute("grouping")


def _ods_column_widths(data: bytes) -> list[float]:
    from odf.opendocument import load
    from odf.style import Style, TableColumnProperties
    from odf.table import Table, TableColumn

    doc = load(io.BytesIO(data))
    styles = {s.getAttribute("name"): s for s in doc.automaticstyles.getElementsByType(Style)}
    [table] = doc.spreadsheet.getElementsByType(Table)
    out = []
    for column in table.getElementsByType(TableColumn):
        [props] = styles[column.getAttribute("stylename")].getElementsByType(TableColumnProperties)
        out.append(float(props.getAttribute("columnwidth").removesuffix("cm")))
    return out


def _num(value: Any) -> float | None:
    if value in (None, ""):
        return None
    return float(str(value).replace(",", "."))


async def test_graduatoria_of_ten_dossiers_exports_order_points_and_tie_breaks(ten):
    world, ids = ten
    async with _client(world, "opera") as client:
        # the social worker enters the scales of the home visits on each dossier page
        for label, (_isee, adl, iadl) in FAMILIES.items():
            if adl is None:
                continue
            page = await client.get(f"/pratiche/{ids[label]}")
            answer = await client.post(
                f"/pratiche/{ids[label]}/valutazione",
                data={"csrf": _csrf(page.text), "adl": str(adl), "iadl": str(iadl)},
            )
            assert answer.status_code == 303, answer.text
        # a value outside the notice's scale is refused, with the scale
        refused = await client.post(
            f"/pratiche/{ids['I']}/valutazione",
            data={"csrf": _csrf(page.text), "adl": "7", "iadl": "2,5"},
        )
        assert refused.status_code == 400
        assert "ADL: scrivete un numero intero da 0 a 6" in refused.text
        assert "IADL: scrivete un numero intero da 0 a 8" in refused.text
        excluded = await client.post(
            f"/pratiche/{ids['J']}/esito",
            data={
                "csrf": _csrf(page.text),
                "outcome": "esclusa",
                "reason": "Residenza fuori Ambito",
            },
        )
        assert excluded.status_code == 303

        html = (await client.get("/avvisi/visconteo-sud-milano-2025/graduatoria")).text
        files = {}
        for fmt in ("csv", "xlsx", "ods"):
            response = await client.get(f"/avvisi/visconteo-sud-milano-2025/graduatoria.{fmt}")
            assert response.status_code == 200, fmt
            assert "attachment" in response.headers["content-disposition"]
            files[fmt] = response.content

    # the page: in order, with the tie-breaks said where they decided
    order = re.findall(r'id="grad-(B2-[A-Z0-9]+)"', html)
    assert order == [ids[k] for k in ORDER]

    raw = files["csv"]
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    workbook = load_workbook(io.BytesIO(files["xlsx"]))
    sheets = {
        "csv": table,
        "xlsx": [list(r) for r in workbook.active.iter_rows(values_only=True)],
        "ods": _ods_rows(files["ods"]),
    }
    for fmt, rows in sheets.items():
        header = [str(h) for h in rows[0]]
        assert header[:9] == [
            "Posizione", "Protocollo", "Data protocollo", "Cognome", "Nome", "Codice fiscale",
            "Comune", "Tipo ISEE", "Valore ISEE",
        ], fmt  # fmt: skip
        col = {name: header.index(name) for name in header}
        assert "Punti ADL" in col and "Punti IADL" in col and "Punti ISEE" in col, fmt
        body = rows[1:]
        assert [r[col["Cognome"]] for r in body] == [SURNAMES[k] for k in ORDER], fmt
        for r, label in zip(body, ORDER, strict=True):
            total = _num(r[col["Totale"]])
            if label in TOTALS:
                assert total == TOTALS[label], (fmt, label)
                assert (
                    _num(r[col["Punti ADL"]])
                    + _num(r[col["Punti IADL"]])
                    + _num(  # type: ignore[operator]
                        r[col["Punti ISEE"]]
                    )
                    == TOTALS[label]
                )
            else:
                assert total is None, (fmt, label)
        positions = [_num(r[col["Posizione"]]) for r in body]
        assert positions == [1, 2, 3, 4, 5, 6, 7, 8, None, None], fmt
        notes = {
            label: str(r[col["Parità e note"]] or "") for r, label in zip(body, ORDER, strict=True)
        }
        assert notes["B"] == ISEE_TIE and notes["E"] == ARRIVAL_TIE, fmt
        assert notes["C"] == "" and notes["A"] == ""
        assert notes["I"].startswith("Punteggio incompleto: manca ADL, IADL"), fmt
        assert notes["J"] == "Esclusa: Residenza fuori Ambito", fmt
        # ISEE values as numbers (decimal comma in the CSV)
        isee_b = body[ORDER.index("B")][col["Valore ISEE"]]
        assert _num(isee_b) == 9000.5, fmt
        if fmt == "csv":
            assert isee_b == "9000,5"
        else:
            assert isinstance(_num(isee_b), float)
        assert body[0][col["Protocollo"]] == "2025/100"
        # the values typed after the home visit beside their points
        adl = body[ORDER.index("C")][col["ADL (valore)"]]
        iadl = body[ORDER.index("C")][col["IADL (valore)"]]
        assert (_num(adl), _num(iadl)) == (2, 1), fmt
        assert col["ADL (valore)"] + 1 == col["Punti ADL"], fmt

    # XLSX: dates are dates, ISEE and points have number formats, columns fit their values
    sheet = workbook.active
    header = [c.value for c in sheet[1]]
    first = {name: sheet.cell(row=2, column=header.index(name) + 1) for name in header}
    assert first["Data protocollo"].value == dt.datetime(2025, 6, 20)
    assert first["Data protocollo"].number_format == "DD/MM/YYYY"
    assert isinstance(first["Arrivo"].value, dt.datetime)
    assert first["Arrivo"].number_format == "DD/MM/YYYY HH:MM"
    assert first["Arrivo"].value == dt.datetime(2025, 6, 2, 9, 0)  # 7:00 UTC, in Rome
    assert first["Valore ISEE"].number_format == "#,##0.00"
    assert first["Punti ADL"].number_format == "#,##0.##"
    assert first["Totale"].number_format == "#,##0.##"
    widths = {
        name: sheet.column_dimensions[chr(ord("A") + i)].width for i, name in enumerate(header)
    }
    assert len(set(widths.values())) > 3, widths  # not every column 13 wide
    assert widths["Codice fiscale"] >= 16 and widths["Parità e note"] > widths["Posizione"]
    # ODS: the same, as office:date-value and styled floats, with column widths
    ods = _ods_cells(files["ods"])
    header = [c["text"] for c in ods[0]]
    first_ods = dict(zip(header, ods[1], strict=True))
    assert first_ods["Data protocollo"]["type"] == "date"
    assert first_ods["Data protocollo"]["date"] == "2025-06-20"
    assert first_ods["Data protocollo"]["text"] == "20/06/2025"
    assert first_ods["Arrivo"]["date"] == "2025-06-02T09:00:00"
    isee_style = first_ods["Valore ISEE"]["style"]
    assert first_ods["Valore ISEE"]["type"] == "float" and isee_style
    assert _ods_data_style(files["ods"], isee_style) == ("2", "true")
    assert _ods_column_widths(files["ods"])[header.index("Codice fiscale")] > 3.0  # cm


async def test_graduatoria_shows_only_her_comuni_and_the_whole_ambito_to_the_admin(ten):
    world, ids = ten
    async with _client(world, "binasco") as client:
        html = (await client.get("/avvisi/visconteo-sud-milano-2025/graduatoria")).text
        assert re.findall(r'id="grad-(B2-[A-Z0-9]+)"', html) == []
        data = (await client.get("/avvisi/visconteo-sud-milano-2025/graduatoria.csv")).content
        assert len(data.decode("utf-8-sig").strip().splitlines()) == 1  # the header only
    async with _client(world, "admin") as client:
        html = (await client.get("/avvisi/visconteo-sud-milano-2025/graduatoria")).text
        assert set(re.findall(r'id="grad-(B2-[A-Z0-9]+)"', html)) == set(ids.values())
        assert (await client.get("/avvisi/nessuno/graduatoria.csv")).status_code == 404


def test_notice_004_breaks_ties_by_isee_only_for_applications_of_the_same_day():
    notice = next(n for n in catalogue().notices if n.id == "distretto-4-cernusco-2021")
    assert notice.ranking is not None
    day = dt.date(2021, 6, 1)
    answers = {
        "municipality": "Cernusco sul Naviglio",
        "beneficiary.birth_date": "1950-01-01",
        "caregiver.present": True,
    }

    def who(name: str, isee: float, hour: int, date: dt.date = day) -> Candidate:
        facts = facts_of({**answers, "isee.status": "attestation", "isee.kind": "ordinario",
                          "isee.value": isee}, day)  # fmt: skip
        facts = facts.with_fact("assessment.adl_functions_kept", 2)
        facts = facts.with_fact("assessment.iadl_functions_kept", 3)
        when = dt.datetime.combine(date, dt.time(hour), dt.UTC)
        return Candidate(id=name, facts=facts, arrival=when, cbi=4)

    ranked = rank(
        notice.ranking,
        [
            who("late-low", 6000, 9, day + dt.timedelta(days=1)),
            who("same-day-high", 6500, 10),
            who("same-day-low", 5000, 11),
        ],
    )
    # 10 + 30 + 30 + 4 = 74 each; the same day: lower ISEE first; another day: not said
    assert [r.total for r in ranked] == [74, 74, 74]
    by = {r.id: r for r in ranked}
    assert [r.id for r in ranked][:2] == ["same-day-low", "same-day-high"]
    assert by["same-day-high"].tie == notice.ranking.tie_breaks[0].text
    assert by["late-low"].tie == UNRESOLVED
    assert by["late-low"].position == by["same-day-high"].position == 2
