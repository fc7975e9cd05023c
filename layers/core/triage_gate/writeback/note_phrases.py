"""The internal note's fixed phrases in the languages an agent team may ask for, and which one a note uses.

The note follows the workflow's ``language.note_language``: "agent" writes it in ``agent_language``; "ticket"
in the ticket's language when the phrases below exist in it, else in ``agent_language``. An agent language
without phrases here falls back to English. Labels and task names stay as the taxonomy has them; the closing
reference line (how write-back finds its own note again) is the same in every language.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from triage_gate.policy_language import LanguagePolicy
from triage_gate.triage import reasons

FALLBACK_LANGUAGE = "en"


class NotePhrases(msgspec.Struct, frozen=True):
    applied: str  # "AI triage applied:"
    suggests: str  # "AI triage suggests:"
    set_by_reviewer: str
    calibrated_confidence: str
    not_available: str
    needs_human: str  # followed by the reasons
    kept: str  # followed by the fields a person set
    language: str
    sentiment: str
    sentiments: Mapping[str, str]  # negative / neutral / positive
    urgent: str
    yes: str
    no: str
    reasons: Mapping[str, str]  # reason code → plain words (a code without them is shown as the code)

    def reason(self, code: str) -> str:
        return self.reasons.get(code, code)


_EN = NotePhrases(
    applied="AI triage applied:", suggests="AI triage suggests:", set_by_reviewer="set by reviewer",
    calibrated_confidence="calibrated confidence", not_available="n/a", needs_human="Needs a human because:",
    kept="Kept what a person set:", language="Language", sentiment="Sentiment",
    sentiments={"negative": "negative", "neutral": "neutral", "positive": "positive"},
    urgent="Urgent", yes="yes", no="no", reasons=reasons.DESCRIPTIONS,
)  # fmt: skip

_DE = NotePhrases(
    applied="KI-Triage hat gesetzt:", suggests="KI-Triage schlägt vor:", set_by_reviewer="von Prüfer gesetzt",
    calibrated_confidence="kalibrierte Konfidenz", not_available="k. A.", needs_human="Braucht einen Menschen, weil:",
    kept="Beibehalten, was eine Person gesetzt hat:", language="Sprache", sentiment="Stimmung",
    sentiments={"negative": "negativ", "neutral": "neutral", "positive": "positiv"},
    urgent="Dringend", yes="ja", no="nein",
    reasons={
        reasons.LOW_CONFIDENCE: "das Modell war sich bei diesem Label nicht sicher genug",
        reasons.LABEL_NOT_IN_TAXONOMY: "das Modell hat ein Label außerhalb der Taxonomie geantwortet",
        reasons.MALFORMED_OUTPUT: "die Antwort des Modells hatte nicht das erwartete Format",
        reasons.POLICY_ALWAYS_REVIEW: "die Richtlinie gibt dieses Label immer einem Menschen",
        reasons.PII_HEAVY: "das Ticket enthält viele personenbezogene Daten",
        reasons.INJECTION_SUSPECTED: "der Tickettext versucht, dem Modell Anweisungen zu geben",
        reasons.MODEL_UNAVAILABLE: "das Modell war nicht erreichbar",
        reasons.CONTEXT_UNAVAILABLE: "Ticketdetails konnten nicht vom Helpdesk abgerufen werden",
        reasons.EMPTY_TICKET: "das Ticket hat keinen Text zum Einordnen",
        reasons.NON_TEXT: "der Ticketinhalt ist kein lesbarer Text",
        reasons.OVERSIZED_INPUT: "das Ticket ist länger als die Grenze für die Einordnung",
        reasons.VIP_CUSTOMER: "Kunden dieser Stufe betreut eine Person",
        reasons.BUDGET_EXHAUSTED: "das heutige Modellbudget dieses Workflows ist aufgebraucht",
        reasons.MODELS_DISAGREE: "die Modelle sind sich nicht einig",
        reasons.MODEL_OUTPUT_INCOMPLETE: "die Antwort des Modells brach ab, bevor die Einordnung fertig war",
        reasons.MODEL_REQUEST_REJECTED: (
            "der Modelldienst hat unsere Anfrage abgelehnt (ein Fehler bei uns, nicht im"
            " Ticket)"
        ),
        reasons.LANGUAGE_UNSUPPORTED: (
            "die Sprache des Tickets kennt das lokale Modell nicht, und Claude wurde nicht"
            " genutzt"
        ),
        reasons.SIGNAL_REVIEW: "die Richtlinie gibt Tickets mit dieser Stimmung oder Dringlichkeit einer Person",
    },
)  # fmt: skip

_ES = NotePhrases(
    applied="La clasificación por IA aplicó:", suggests="La clasificación por IA sugiere:",
    set_by_reviewer="fijado por un revisor", calibrated_confidence="confianza calibrada", not_available="n/d",
    needs_human="Necesita una persona porque:", kept="Se mantuvo lo que fijó una persona:", language="Idioma",
    sentiment="Sentimiento", sentiments={"negative": "negativo", "neutral": "neutral", "positive": "positivo"},
    urgent="Urgente", yes="sí", no="no",
    reasons={
        reasons.LOW_CONFIDENCE: "el modelo no tenía suficiente confianza en esta etiqueta",
        reasons.LABEL_NOT_IN_TAXONOMY: "el modelo respondió una etiqueta que no está en la taxonomía",
        reasons.MALFORMED_OUTPUT: "la respuesta del modelo no tenía el formato esperado",
        reasons.POLICY_ALWAYS_REVIEW: "la política envía esta etiqueta a una persona siempre",
        reasons.PII_HEAVY: "el ticket contiene muchos datos personales",
        reasons.INJECTION_SUSPECTED: "el texto del ticket intenta dar instrucciones al modelo",
        reasons.MODEL_UNAVAILABLE: "no se pudo contactar con el modelo",
        reasons.CONTEXT_UNAVAILABLE: "no se pudieron obtener los detalles del ticket del helpdesk",
        reasons.EMPTY_TICKET: "el ticket no tiene texto que clasificar",
        reasons.NON_TEXT: "el contenido del ticket no es texto legible",
        reasons.OVERSIZED_INPUT: "el ticket supera el límite de longitud para clasificar",
        reasons.VIP_CUSTOMER: "una persona atiende a los clientes de este nivel",
        reasons.BUDGET_EXHAUSTED: "el presupuesto de modelo de hoy para este flujo está agotado",
        reasons.MODELS_DISAGREE: "los modelos no coinciden",
        reasons.MODEL_OUTPUT_INCOMPLETE: "la respuesta del modelo se cortó antes de terminar la clasificación",
        reasons.MODEL_REQUEST_REJECTED: (
            "el servicio del modelo rechazó nuestra petición (un fallo nuestro, no del"
            " ticket)"
        ),
        reasons.LANGUAGE_UNSUPPORTED: "el modelo local no conoce el idioma del ticket y no se usó Claude",
        reasons.SIGNAL_REVIEW: "la política envía a una persona los tickets con este sentimiento o urgencia",
    },
)  # fmt: skip

_FR = NotePhrases(
    applied="Le tri par IA a appliqué :", suggests="Le tri par IA suggère :", set_by_reviewer="choisi par un relecteur",
    calibrated_confidence="confiance calibrée", not_available="n/d", needs_human="Demande une personne car :",
    kept="Conservé ce qu'une personne a défini :", language="Langue", sentiment="Sentiment",
    sentiments={"negative": "négatif", "neutral": "neutre", "positive": "positif"},
    urgent="Urgent", yes="oui", no="non",
    reasons={
        reasons.LOW_CONFIDENCE: "le modèle n'était pas assez sûr de cette étiquette",
        reasons.LABEL_NOT_IN_TAXONOMY: "le modèle a répondu une étiquette absente de la taxonomie",
        reasons.MALFORMED_OUTPUT: "la réponse du modèle n'avait pas le format attendu",
        reasons.POLICY_ALWAYS_REVIEW: "la politique confie toujours cette étiquette à une personne",
        reasons.PII_HEAVY: "le ticket contient beaucoup de données personnelles",
        reasons.INJECTION_SUSPECTED: "le texte du ticket tente de donner des instructions au modèle",
        reasons.MODEL_UNAVAILABLE: "le modèle était injoignable",
        reasons.CONTEXT_UNAVAILABLE: "les détails du ticket n'ont pas pu être lus dans le helpdesk",
        reasons.EMPTY_TICKET: "le ticket n'a pas de texte à classer",
        reasons.NON_TEXT: "le contenu du ticket n'est pas du texte lisible",
        reasons.OVERSIZED_INPUT: "le ticket dépasse la longueur limite de classement",
        reasons.VIP_CUSTOMER: "une personne traite les clients de ce niveau",
        reasons.BUDGET_EXHAUSTED: "le budget modèle du jour pour ce workflow est épuisé",
        reasons.MODELS_DISAGREE: "les modèles ne sont pas d'accord",
        reasons.MODEL_OUTPUT_INCOMPLETE: "la réponse du modèle s'est arrêtée avant la fin du classement",
        reasons.MODEL_REQUEST_REJECTED: (
            "le service du modèle a refusé notre requête (une erreur de notre côté, pas du"
            " ticket)"
        ),
        reasons.LANGUAGE_UNSUPPORTED: (
            "le modèle local ne connaît pas la langue du ticket, et Claude n'a pas été"
            " utilisé"
        ),
        reasons.SIGNAL_REVIEW: "la politique confie à une personne les tickets avec ce sentiment ou cette urgence",
    },
)  # fmt: skip

_PT = NotePhrases(
    applied="A triagem por IA aplicou:", suggests="A triagem por IA sugere:", set_by_reviewer="definido por um revisor",
    calibrated_confidence="confiança calibrada", not_available="n/d", needs_human="Precisa de uma pessoa porque:",
    kept="Mantido o que uma pessoa definiu:", language="Idioma", sentiment="Sentimento",
    sentiments={"negative": "negativo", "neutral": "neutro", "positive": "positivo"},
    urgent="Urgente", yes="sim", no="não",
    reasons={
        reasons.LOW_CONFIDENCE: "o modelo não teve confiança suficiente neste rótulo",
        reasons.LABEL_NOT_IN_TAXONOMY: "o modelo respondeu um rótulo que não está na taxonomia",
        reasons.MALFORMED_OUTPUT: "a resposta do modelo não tinha o formato esperado",
        reasons.POLICY_ALWAYS_REVIEW: "a política envia este rótulo sempre para uma pessoa",
        reasons.PII_HEAVY: "o ticket contém muitos dados pessoais",
        reasons.INJECTION_SUSPECTED: "o texto do ticket tenta dar instruções ao modelo",
        reasons.MODEL_UNAVAILABLE: "não foi possível contactar o modelo",
        reasons.CONTEXT_UNAVAILABLE: "não foi possível obter os detalhes do ticket no helpdesk",
        reasons.EMPTY_TICKET: "o ticket não tem texto para classificar",
        reasons.NON_TEXT: "o conteúdo do ticket não é texto legível",
        reasons.OVERSIZED_INPUT: "o ticket é mais longo do que o limite de classificação",
        reasons.VIP_CUSTOMER: "uma pessoa atende os clientes deste nível",
        reasons.BUDGET_EXHAUSTED: "o orçamento de modelo de hoje para este fluxo acabou",
        reasons.MODELS_DISAGREE: "os modelos discordam",
        reasons.MODEL_OUTPUT_INCOMPLETE: "a resposta do modelo parou antes de terminar a classificação",
        reasons.MODEL_REQUEST_REJECTED: "o serviço do modelo recusou o nosso pedido (uma falha nossa, não do ticket)",
        reasons.LANGUAGE_UNSUPPORTED: "o modelo local não conhece o idioma do ticket e o Claude não foi usado",
        reasons.SIGNAL_REVIEW: "a política envia a uma pessoa os tickets com este sentimento ou urgência",
    },
)  # fmt: skip

_IT = NotePhrases(
    applied="Il triage IA ha applicato:", suggests="Il triage IA suggerisce:", set_by_reviewer="scelto da un revisore",
    calibrated_confidence="confidenza calibrata", not_available="n/d", needs_human="Serve una persona perché:",
    kept="Mantenuto ciò che ha impostato una persona:", language="Lingua", sentiment="Sentimento",
    sentiments={"negative": "negativo", "neutral": "neutro", "positive": "positivo"},
    urgent="Urgente", yes="sì", no="no",
    reasons={
        reasons.LOW_CONFIDENCE: "il modello non era abbastanza sicuro di questa etichetta",
        reasons.LABEL_NOT_IN_TAXONOMY: "il modello ha risposto un'etichetta fuori dalla tassonomia",
        reasons.MALFORMED_OUTPUT: "la risposta del modello non aveva il formato atteso",
        reasons.POLICY_ALWAYS_REVIEW: "la policy affida sempre questa etichetta a una persona",
        reasons.PII_HEAVY: "il ticket contiene molti dati personali",
        reasons.INJECTION_SUSPECTED: "il testo del ticket cerca di dare istruzioni al modello",
        reasons.MODEL_UNAVAILABLE: "il modello non era raggiungibile",
        reasons.CONTEXT_UNAVAILABLE: "non è stato possibile leggere i dettagli del ticket dall'helpdesk",
        reasons.EMPTY_TICKET: "il ticket non ha testo da classificare",
        reasons.NON_TEXT: "il contenuto del ticket non è testo leggibile",
        reasons.OVERSIZED_INPUT: "il ticket supera il limite di lunghezza per la classificazione",
        reasons.VIP_CUSTOMER: "i clienti di questo livello sono seguiti da una persona",
        reasons.BUDGET_EXHAUSTED: "il budget di oggi per il modello di questo workflow è esaurito",
        reasons.MODELS_DISAGREE: "i modelli non sono d'accordo",
        reasons.MODEL_OUTPUT_INCOMPLETE: "la risposta del modello si è interrotta prima di finire la classificazione",
        reasons.MODEL_REQUEST_REJECTED: (
            "il servizio del modello ha rifiutato la richiesta (un errore nostro, non del"
            " ticket)"
        ),
        reasons.LANGUAGE_UNSUPPORTED: "il modello locale non conosce la lingua del ticket e Claude non è stato usato",
        reasons.SIGNAL_REVIEW: "la policy affida a una persona i ticket con questo sentimento o urgenza",
    },
)  # fmt: skip

_NL = NotePhrases(
    applied="AI-triage heeft toegepast:", suggests="AI-triage stelt voor:",
    set_by_reviewer="ingesteld door beoordelaar",
    calibrated_confidence="gekalibreerde zekerheid", not_available="n.v.t.", needs_human="Heeft een mens nodig omdat:",
    kept="Behouden wat een persoon heeft ingesteld:", language="Taal", sentiment="Sentiment",
    sentiments={"negative": "negatief", "neutral": "neutraal", "positive": "positief"},
    urgent="Dringend", yes="ja", no="nee",
    reasons={
        reasons.LOW_CONFIDENCE: "het model was niet zeker genoeg van dit label",
        reasons.LABEL_NOT_IN_TAXONOMY: "het model antwoordde een label dat niet in de taxonomie staat",
        reasons.MALFORMED_OUTPUT: "het antwoord van het model had niet het verwachte formaat",
        reasons.POLICY_ALWAYS_REVIEW: "het beleid stuurt dit label altijd naar een mens",
        reasons.PII_HEAVY: "het ticket bevat veel persoonsgegevens",
        reasons.INJECTION_SUSPECTED: "de tekst van het ticket probeert het model instructies te geven",
        reasons.MODEL_UNAVAILABLE: "het model was niet bereikbaar",
        reasons.CONTEXT_UNAVAILABLE: "ticketgegevens konden niet uit de helpdesk worden gehaald",
        reasons.EMPTY_TICKET: "het ticket heeft geen tekst om te classificeren",
        reasons.NON_TEXT: "de inhoud van het ticket is geen leesbare tekst",
        reasons.OVERSIZED_INPUT: "het ticket is langer dan de grens voor classificatie",
        reasons.VIP_CUSTOMER: "klanten van dit niveau worden door een persoon behandeld",
        reasons.BUDGET_EXHAUSTED: "het modelbudget van vandaag voor deze workflow is op",
        reasons.MODELS_DISAGREE: "de modellen zijn het oneens",
        reasons.MODEL_OUTPUT_INCOMPLETE: "het antwoord van het model stopte voordat de classificatie af was",
        reasons.MODEL_REQUEST_REJECTED: (
            "de modeldienst weigerde ons verzoek (een fout aan onze kant, niet in het"
            " ticket)"
        ),
        reasons.LANGUAGE_UNSUPPORTED: "het lokale model kent de taal van het ticket niet, en Claude is niet gebruikt",
        reasons.SIGNAL_REVIEW: "het beleid stuurt tickets met dit sentiment of deze urgentie naar een persoon",
    },
)  # fmt: skip

NOTE_PHRASES: dict[str, NotePhrases] = {
    "en": _EN, "de": _DE, "es": _ES, "fr": _FR, "pt": _PT, "it": _IT, "nl": _NL,
}  # fmt: skip


def note_language(policy: LanguagePolicy, ticket_language: str | None) -> str:
    """The language the note is written in: the ticket's (note_language "ticket", when its phrases exist),
    else the agents', else English when the agents' language has no phrases here."""
    if policy.note_language == "ticket" and ticket_language is not None and ticket_language in NOTE_PHRASES:
        return ticket_language
    return policy.agent_language if policy.agent_language in NOTE_PHRASES else FALLBACK_LANGUAGE


def note_phrases(code: str) -> NotePhrases:
    return NOTE_PHRASES.get(code, NOTE_PHRASES[FALLBACK_LANGUAGE])
