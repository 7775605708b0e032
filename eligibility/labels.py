"""Plain-Italian names for the contract's ids, used in verdict sentences."""

from __future__ import annotations

CURRENT_MEASURE_NAMES: dict[str, str] = {
    "misura_b1": "Misura B1",
    "rsa_aperta": "RSA aperta",
    "home_care_premium": "Home Care Premium (INPS HCP)",
    "prestazione_universale": "Prestazione Universale (D.lgs 29/2024)",
    "pro_vi": "contributo per la vita indipendente (PRO.VI)",
    "bonus_assistente_familiare_lr15": "bonus per l'assistente familiare (l.r. 15/2015)",
    "adi": "Assistenza Domiciliare Integrata (ADI)",
    "sad": "Servizio di Assistenza Domiciliare (SAD)",
    "riabilitazione": "riabilitazione in ambulatorio o a casa",
    "ricovero_ospedaliero": "ricovero in ospedale o in riabilitazione",
    "ricovero_sollievo": "ricovero di sollievo",
    "ricovero_sollievo_fsr": "ricovero di sollievo pagato tutto dal Fondo Sanitario Regionale",
    "dopo_di_noi": "sostegni del Dopo di Noi",
    "dopo_di_noi_residenzialita": "supporto alla residenzialità del Dopo di Noi",
    "voucher_anziani_disabili": "voucher anziani e disabili (DGR 7487/2017)",
    "residenziale_definitivo": "accoglienza definitiva in una struttura (RSA, RSD, CSS, Hospice)",
}

MEASURE_NAMES: dict[str, str] = {
    "buono_caregiver": "Buono per il caregiver familiare",
    "buono_assistente_familiare": "Buono per l'assistente familiare",
    "assegno_autonomia": "Assegno per l'autonomia",
    "voucher_minori": "Voucher per minori",
    "interventi_integrativi": "Interventi integrativi sociali",
}

CHANNEL_NAMES: dict[str, str] = {
    "pec": "PEC (posta elettronica certificata)",
    "email": "e-mail",
    "office": "di persona, all'ufficio protocollo",
    "online_platform": "piattaforma online",
    "unknown": "non indicato: chiedete ai servizi sociali del Comune",
}

STATUS_NAMES: dict[str, str] = {
    "open": "aperto",
    "closed": "chiuso",
    "not_yet_open": "non ancora aperto",
    "unknown": "date non indicate",
}

PRE_CHECK = (
    "Questa è solo una verifica preliminare. Decidono i servizi sociali del Comune, "
    "dopo la valutazione."
)
