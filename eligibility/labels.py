"""Plain-Italian names for the contract's ids, used in verdict sentences."""

from __future__ import annotations


def N_(message: str) -> str:
    """Mark a sentence for translation (extracted by Babel; translated where shown)."""
    return message


CURRENT_MEASURE_NAMES: dict[str, str] = {
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
    "unknown": N_("non indicato: chiedete ai servizi sociali del Comune"),
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
