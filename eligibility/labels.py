"""Plain-Italian names for the contract's ids, used in verdict sentences."""

from __future__ import annotations

from common.i18n import N_

# With their article: they fill sentences such as "Ricevete già {name}".
CURRENT_MEASURE_NAMES: dict[str, str] = {
    "misura_b1": N_("la Misura B1"),
    "rsa_aperta": N_("la misura RSA aperta"),
    "home_care_premium": N_("Home Care Premium (INPS HCP)"),
    "prestazione_universale": N_("la Prestazione Universale (D.lgs 29/2024)"),
    "pro_vi": N_("il contributo per la vita indipendente (PRO.VI)"),
    "bonus_assistente_familiare_lr15": N_("il bonus per l'assistente familiare (l.r. 15/2015)"),
    "adi": N_("l'Assistenza Domiciliare Integrata (ADI)"),
    "sad": N_("il Servizio di Assistenza Domiciliare (SAD)"),
    "riabilitazione": N_("la riabilitazione in ambulatorio o a casa"),
    "ricovero_ospedaliero": N_("un ricovero in ospedale o in riabilitazione"),
    "ricovero_sollievo": N_("un ricovero di sollievo"),
    "ricovero_sollievo_fsr": N_(
        "un ricovero di sollievo pagato tutto dal Fondo Sanitario Regionale"
    ),
    "dopo_di_noi": N_("i sostegni del Dopo di Noi"),
    "dopo_di_noi_residenzialita": N_("il supporto alla residenzialità del Dopo di Noi"),
    "voucher_anziani_disabili": N_("i voucher anziani e disabili (DGR 7487/2017)"),
    "residenziale_definitivo": N_(
        "l'accoglienza definitiva in una struttura (RSA, RSD, CSS, Hospice)"
    ),
}

MEASURE_NAMES: dict[str, str] = {
    "misura_b1": N_("Misura B1"),
    "rsa_aperta": N_("RSA aperta"),
    "home_care_premium": N_("Home Care Premium (INPS HCP)"),
    "prestazione_universale": N_("Prestazione Universale (D.lgs 29/2024)"),
    "pro_vi": N_("contributo per la vita indipendente (PRO.VI)"),
    "bonus_assistente_familiare_lr15": N_("bonus per l'assistente familiare (l.r. 15/2015)"),
    "adi": N_("Assistenza Domiciliare Integrata (ADI)"),
    "sad": N_("Servizio di Assistenza Domiciliare (SAD)"),
    "riabilitazione": N_("riabilitazione in ambulatorio o a casa"),
    "ricovero_ospedaliero": N_("ricovero in ospedale o in riabilitazione"),
    "ricovero_sollievo": N_("ricovero di sollievo"),
    "ricovero_sollievo_fsr": N_("ricovero di sollievo pagato tutto dal Fondo Sanitario Regionale"),
    "dopo_di_noi": N_("sostegni del Dopo di Noi"),
    "dopo_di_noi_residenzialita": N_("supporto alla residenzialità del Dopo di Noi"),
    "voucher_anziani_disabili": N_("voucher anziani e disabili (DGR 7487/2017)"),
    "residenziale_definitivo": N_(
        "accoglienza definitiva in una struttura (RSA, RSD, CSS, Hospice)"
    ),
}

MEASURE_NAMES: dict[str, str] = {
    "buono_caregiver": N_("Buono per il caregiver familiare"),
    "buono_assistente_familiare": N_("Buono per l'assistente familiare"),
    "assegno_autonomia": N_("Assegno per l'autonomia"),
    "voucher_minori": N_("Voucher per minori"),
    "interventi_integrativi": N_("Interventi integrativi sociali"),
}

CHANNEL_NAMES: dict[str, str] = {
    "pec": N_("PEC (posta elettronica certificata)"),
    "email": N_("e-mail"),
    "office": N_("di persona, all'ufficio protocollo"),
    "online_platform": N_("piattaforma online"),
    "unknown": N_("modo di invio non indicato"),
}

STATUS_NAMES: dict[str, str] = {
    "open": N_("aperto"),
    "closed": N_("chiuso"),
    "not_yet_open": N_("non ancora aperto"),
    "unknown": N_("date non indicate"),
}

PRE_CHECK = N_(
    "Questa è solo una verifica preliminare. Decidono i servizi sociali del Comune, "
    "dopo la valutazione."
)

# The facts a rule can compare with a number, for the notice as a whole ("almeno 10").
NUMBER_FACT_NAMES: dict[str, str] = {
    "assistant.weekly_hours": N_("Ore di lavoro dell'assistente a settimana"),
    "caregiver.weekly_work_hours": N_("Ore di lavoro del caregiver a settimana"),
    "day_service_weekly_hours": N_("Ore a settimana al centro diurno"),
}

ISEE_KIND_NAMES: dict[str, str] = {
    "sociosanitario": N_("sociosanitario"),
    "sociosanitario_ristretto": N_("sociosanitario (nucleo ristretto)"),
    "ordinario": N_("ordinario"),
    "minorenni": N_("per minorenni"),
    "corrente": N_("corrente"),
}
