"""The question table: how to ask each fact, in plain Italian, and how to read the answer.

One row per fact key of the contract (or per step of a fact asked in parts, like the
ISEE). The engine decides *which* fact to ask (its `missing` list); this table decides
*how*. Prompts, options and help are message ids marked with `N_`, translated when shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from common.i18n import N_

Kind = Literal["comune", "choice", "multi", "yesno", "date", "amount", "hours"]


@dataclass(frozen=True)
class Question:
    qid: str  # short id, used in button data (Telegram allows 64 bytes)
    key: str  # fact key, or `isee.status` / `isee.kind` / `isee.value` for the ISEE steps
    kind: Kind
    prompt: str
    short: str = ""  # the answer's name in the summary
    help: str | None = None
    options: tuple[tuple[str, str], ...] = ()  # (value, label)
    example: str | None = None


YES_NO = (("yes", N_("Sì")), ("no", N_("No")))

QUESTIONS: tuple[Question, ...] = (
    Question(
        "mun",
        "municipality",
        "comune",
        N_("In quale Comune vive la persona che assistete? Scrivete il nome."),
        example="Rozzano",
        short=N_("Comune"),
    ),
    Question(
        "bd",
        "beneficiary.birth_date",
        "date",
        N_("Quando è nata la persona che assistete?"),
        example="1/3/1950",
        short=N_("Data di nascita"),
    ),
    Question(
        "cit",
        "beneficiary.citizenship",
        "choice",
        N_("Che cittadinanza ha?"),
        options=(
            ("it", N_("Italiana")),
            ("eu", N_("Di un Paese dell'Unione Europea")),
            ("non_eu_permit", N_("Di un altro Paese, con permesso di soggiorno")),
            ("non_eu_no_permit", N_("Di un altro Paese, senza permesso di soggiorno")),
        ),
        short=N_("Cittadinanza"),
    ),
    Question(
        "home",
        "beneficiary.lives_at_home",
        "yesno",
        N_("Vive a casa (sua o di un familiare)?"),
        help=N_(
            "Rispondete No se vive in modo stabile in una struttura, come una RSA o una RSD. "
            "Un ricovero breve non conta."
        ),
        options=YES_NO,
        short=N_("Vive a casa"),
    ),
    Question(
        "cert",
        "beneficiary.certifications",
        "multi",
        N_("Quali di questi documenti ha? Toccate tutti quelli giusti, poi «Fatto»."),
        help=N_(
            "Indennità di accompagnamento: l'aiuto INPS per chi non può muoversi o vivere "
            "da solo. Invalidità 100%: il verbale di invalidità civile totale. L. 104 art. 3 "
            "c. 3: il verbale di handicap grave. Indennità di frequenza: l'aiuto per i minori "
            "che frequentano scuola o terapie."
        ),
        options=(
            ("indennita_accompagnamento", N_("Indennità di accompagnamento")),
            ("invalidita_100", N_("Invalidità civile al 100%")),
            ("legge104_art3c3", N_("L. 104 art. 3 comma 3 (handicap grave)")),
            ("legge104_art3c3_pending", N_("L. 104 art. 3 comma 3 chiesta, in attesa")),
            ("indennita_frequenza", N_("Indennità di frequenza (minori)")),
        ),
        short=N_("Certificazioni"),
    ),
    Question(
        "dis",
        "beneficiary.disability_kind",
        "choice",
        N_("Da cosa dipende soprattutto il bisogno di aiuto?"),
        options=(
            ("physical_motor", N_("Una disabilità fisica o motoria")),
            ("intellectual", N_("Una disabilità intellettiva")),
            ("age_related", N_("L'età avanzata")),
            ("other", N_("Altro")),
        ),
        short=N_("Tipo di disabilità"),
    ),
    Question(
        "alone",
        "beneficiary.lives_alone",
        "yesno",
        N_("Vive senza familiari in casa?"),
        options=YES_NO,
        short=N_("Vive senza familiari"),
    ),
    Question(
        "isst",
        "isee.status",
        "choice",
        N_("Avete un'attestazione ISEE valida?"),
        help=N_(
            "L'ISEE misura la situazione economica della famiglia. Lo rilascia l'INPS dopo "
            "la DSU, una dichiarazione che si fa da soli online o con un CAF. L'ISEE "
            "sociosanitario è quello per gli aiuti alle persone con disabilità."
        ),
        options=(
            ("attestation", N_("Sì, ho l'attestazione")),
            ("dsu_submitted", N_("Ho fatto la DSU, aspetto l'ISEE")),
            ("caf_appointment", N_("Ho un appuntamento al CAF")),
            ("none", N_("No, non ancora")),
        ),
        short=N_("ISEE"),
    ),
    Question(
        "iskd",
        "isee.kind",
        "choice",
        N_("Che tipo di ISEE è? Lo trovate in alto sull'attestazione."),
        help=N_(
            "Il tipo è scritto sull'attestazione. Può essere: ordinario, sociosanitario "
            "(a volte «nucleo ristretto»), minorenni o corrente."
        ),
        options=(
            ("sociosanitario", N_("Sociosanitario")),
            ("sociosanitario_ristretto", N_("Sociosanitario, nucleo ristretto")),
            ("ordinario", N_("Ordinario")),
            ("minorenni", N_("Per minorenni")),
            ("corrente", N_("Corrente")),
        ),
        short=N_("Tipo di ISEE"),
    ),
    Question(
        "isv",
        "isee.value",
        "amount",
        N_("Quanto è il valore ISEE? Scrivete la cifra in euro."),
        example="12.000,50",
        short=N_("Valore ISEE"),
    ),
    Question(
        "cur",
        "current_measures",
        "multi",
        N_("Riceve già uno di questi aiuti? Toccate tutti quelli giusti, poi «Fatto»."),
        help=N_(
            "Alcuni aiuti non si possono avere insieme alla B2. Se non ne ricevete nessuno, "
            "toccate subito «Fatto»."
        ),
        options=(
            ("adi", N_("ADI (assistenza domiciliare integrata)")),
            ("sad", N_("SAD (assistenza domiciliare del Comune)")),
            ("misura_b1", N_("Misura B1")),
            ("rsa_aperta", N_("RSA aperta")),
            ("home_care_premium", N_("Home Care Premium (INPS)")),
            ("prestazione_universale", N_("Prestazione Universale (INPS)")),
            ("pro_vi", N_("Progetto vita indipendente (PRO.VI)")),
            ("bonus_assistente_familiare_lr15", N_("Bonus assistente familiare (l.r. 15/2015)")),
            ("riabilitazione", N_("Riabilitazione")),
            ("ricovero_ospedaliero", N_("Ricovero in ospedale")),
            ("ricovero_sollievo", N_("Ricovero di sollievo")),
            ("ricovero_sollievo_fsr", N_("Ricovero di sollievo pagato dalla Regione")),
            ("dopo_di_noi", N_("Dopo di Noi")),
            ("dopo_di_noi_residenzialita", N_("Dopo di Noi, residenzialità")),
            ("voucher_anziani_disabili", N_("Voucher anziani e disabili")),
            ("residenziale_definitivo", N_("Vive in RSA, RSD o CSS in modo stabile")),
        ),
        short=N_("Altri aiuti"),
    ),
    Question(
        "cgp",
        "caregiver.present",
        "yesno",
        N_("Un familiare si prende cura di lei o di lui ogni giorno?"),
        help=N_("È il «caregiver familiare»: un familiare che assiste, senza essere pagato."),
        options=YES_NO,
        short=N_("Familiare che assiste"),
    ),
    Question(
        "cgr",
        "caregiver.relationship",
        "choice",
        N_("Chi è questo familiare per la persona assistita?"),
        options=(
            ("spouse", N_("Marito o moglie")),
            ("civil_partner", N_("Unito civilmente")),
            ("cohabitant", N_("Convivente")),
            ("child", N_("Figlio o figlia")),
            ("parent", N_("Padre o madre")),
            ("sibling", N_("Fratello o sorella")),
            ("other_relative", N_("Altro parente")),
            ("none", N_("Non è un parente")),
        ),
        short=N_("Parentela"),
    ),
    Question(
        "cgc",
        "caregiver.cohabiting",
        "yesno",
        N_("Questo familiare vive con la persona assistita?"),
        options=YES_NO,
        short=N_("Vive insieme"),
    ),
    Question(
        "cgh",
        "caregiver.same_household",
        "yesno",
        N_("È nello stesso stato di famiglia?"),
        help=N_("Lo stato di famiglia è l'elenco di chi risulta residente insieme all'anagrafe."),
        options=YES_NO,
        short=N_("Stesso stato di famiglia"),
    ),
    Question(
        "cge",
        "caregiver.employment",
        "choice",
        N_("Questo familiare lavora?"),
        options=(
            ("retired", N_("È in pensione")),
            ("unemployed", N_("Non lavora")),
            ("homemaker", N_("Casalinga o casalingo")),
            ("part_time", N_("Lavora part time")),
            ("full_time", N_("Lavora a tempo pieno")),
            ("cig_zero", N_("Cassa integrazione a zero ore")),
            ("leave_104", N_("In congedo per assistenza (L. 104)")),
        ),
        short=N_("Lavoro del familiare"),
    ),
    Question(
        "cgw",
        "caregiver.weekly_work_hours",
        "hours",
        N_("Quante ore a settimana lavora?"),
        example="20",
        short=N_("Ore di lavoro del familiare"),
    ),
    Question(
        "cgi",
        "caregiver.invalid_100",
        "yesno",
        N_("Questo familiare ha un'invalidità al 100%?"),
        options=YES_NO,
        short=N_("Familiare invalido al 100%"),
    ),
    Question(
        "ase",
        "assistant.employed",
        "yesno",
        N_("C'è un assistente familiare pagato (badante), con un contratto?"),
        options=YES_NO,
        short=N_("Assistente familiare"),
    ),
    Question(
        "asc",
        "assistant.contract",
        "choice",
        N_("Com'è assunto l'assistente?"),
        options=(
            ("direct", N_("Lo assumiamo noi, con contratto")),
            ("cooperative", N_("Tramite una cooperativa")),
            ("inps_voucher", N_("Con il Libretto Famiglia INPS")),
        ),
        short=N_("Contratto dell'assistente"),
    ),
    Question(
        "ash",
        "assistant.weekly_hours",
        "hours",
        N_("Quante ore a settimana lavora l'assistente?"),
        example="25",
        short=N_("Ore dell'assistente"),
    ),
    Question(
        "asf",
        "assistant.full_time",
        "yesno",
        N_("L'assistente è assunto a tempo pieno?"),
        options=YES_NO,
        short=N_("Assistente a tempo pieno"),
    ),
    Question(
        "asr",
        "assistant.relative",
        "yesno",
        N_("L'assistente è un parente della persona assistita?"),
        options=YES_NO,
        short=N_("Assistente parente"),
    ),
    Question(
        "first",
        "first_application",
        "yesno",
        N_("È la prima volta che chiedete la Misura B2?"),
        help=N_("Rispondete No se l'anno scorso avevate già un buono B2."),
        options=YES_NO,
        short=N_("Prima domanda"),
    ),
)

BY_QID = {q.qid: q for q in QUESTIONS}
BY_KEY = {q.key: q for q in QUESTIONS}
