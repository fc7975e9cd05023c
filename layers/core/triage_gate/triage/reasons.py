"""Reason codes: why a ticket went to a human. Reviewers see them; metrics count them."""

LOW_CONFIDENCE = "low_confidence"
LABEL_NOT_IN_TAXONOMY = "label_not_in_taxonomy"
MALFORMED_OUTPUT = "malformed_output"
POLICY_ALWAYS_REVIEW = "policy_always_review"
PII_HEAVY = "pii_heavy"
INJECTION_SUSPECTED = "injection_suspected"
MODEL_UNAVAILABLE = "model_unavailable"
CONTEXT_UNAVAILABLE = "context_unavailable"
EMPTY_TICKET = "empty_ticket"
NON_TEXT = "non_text"
OVERSIZED_INPUT = "oversized_input"
VIP_CUSTOMER = "vip_customer"
BUDGET_EXHAUSTED = "budget_exhausted"
MODELS_DISAGREE = "models_disagree"
MODEL_OUTPUT_INCOMPLETE = "model_output_incomplete"
MODEL_REQUEST_REJECTED = "model_request_rejected"
LANGUAGE_UNSUPPORTED = "language_unsupported"
SIGNAL_REVIEW = "signal_review"

# Plain words for reviewers (Slack) and reports.
DESCRIPTIONS = {
    LOW_CONFIDENCE: "the model was not confident enough for this label",
    LABEL_NOT_IN_TAXONOMY: "the model answered a label that is not in the taxonomy",
    MALFORMED_OUTPUT: "the model's answer did not match the expected format",
    POLICY_ALWAYS_REVIEW: "the policy sends this label to a human every time",
    PII_HEAVY: "the ticket carries a lot of personal data",
    INJECTION_SUSPECTED: "the ticket text tries to instruct the model",
    MODEL_UNAVAILABLE: "the model could not be reached",
    CONTEXT_UNAVAILABLE: "ticket details could not be fetched from the helpdesk",
    EMPTY_TICKET: "the ticket has no text to classify",
    NON_TEXT: "the ticket content is not readable text",
    OVERSIZED_INPUT: "the ticket is longer than the classification limit",
    VIP_CUSTOMER: "the customer's tier is handled by a person",
    BUDGET_EXHAUSTED: "today's model budget for this workflow is spent",
    MODELS_DISAGREE: "the models disagree",
    MODEL_OUTPUT_INCOMPLETE: "the model's answer was cut off or stopped before it finished the classification",
    MODEL_REQUEST_REJECTED: "the model service refused our request (a fault on our side, not in the ticket)",
    LANGUAGE_UNSUPPORTED: "the ticket's language is not one the local model was trained on, and Claude was not used",
    SIGNAL_REVIEW: "the policy sends tickets with this sentiment or urgency to a person",
}
