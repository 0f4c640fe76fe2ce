"""The OpenAPI 3.1 document of the till API, written out by hand next to the routes it describes."""

REFUSAL_CODES = [
    "not_found",
    "other_community",
    "not_issued",
    "expired",
    "not_started",
    "used_up",
    "daily_limit",
    "budget_exhausted",
    "merchant_not_in_campaign",
    "merchant_suspended",
    "void",
    "campaign_paused",
    "outside_hours",
    "no_discount",
    "bad_bill",
    "bad_key",
    "key_reused",
    "already_void",
    "void_too_late",
    "pin_required",
    "wrong_pin",
    "pin_locked",
    "bad_json",
    "json_too_deep",
    "json_too_large",
    "bad_date",
]


TOO_MANY = (
    "Too many requests from this key, or (`pin_locked`) five wrong PINs for this card within "
    "the hour: it is refused by serial and PIN until the hour has passed or the community "
    "office releases it; its QR still works"
)


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


CARD_REQUEST = {
    "type": "object",
    "required": ["card", "bill_fen"],
    "properties": {
        "card": {
            "type": "string",
            "maxLength": 200,
            "description": "What the card's QR holds (its URL or token), or its printed serial.",
        },
        "pin": {
            "type": ["string", "null"],
            "maxLength": 8,
            "description": "The card's 4-digit PIN; required when `card` is a typed serial.",
        },
        "bill_fen": {"type": "integer", "minimum": 1, "maximum": 100_000_000},
    },
}

REDEMPTION = {
    "type": "object",
    "required": ["id", "card", "bill_fen", "discount_fen", "paid_fen", "rule", "status"],
    "properties": {
        "id": {"type": "integer"},
        "card": {"type": "string", "description": "The card's serial."},
        "bill_fen": {"type": "integer"},
        "discount_fen": {"type": "integer"},
        "paid_fen": {"type": "integer"},
        "rule": {"type": "string", "description": "The rule as applied, e.g. 8折，最高减20."},
        "status": {"type": "string", "enum": ["ok", "void"]},
        "created_at": {"type": "string", "format": "date-time"},
        "local_day": {"type": "string", "format": "date"},
        "void_reason": {"type": ["string", "null"]},
    },
}


def document() -> dict:
    """Return the OpenAPI document."""
    auth = [{"apiKey": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "邻里 till API",
            "version": "1",
            "description": (
                "Quote and record redemptions of 邻里互助消费卡 and 消费券 from a shop's till. "
                "Money is integer fen. Errors carry a stable `error` code and a Chinese "
                "`message`. Bodies are JSON objects of at most 64 KB, nested at most 10 deep. "
                "Authenticate with `Authorization: Bearer <key>`; the shop's owner "
                "creates keys on the shop's pages (/m/keys)."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": auth,
        "paths": {
            "/quote": {
                "post": {
                    "operationId": "quote",
                    "summary": "Bill, discount and what to collect; records nothing",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": CARD_REQUEST}},
                    },
                    "responses": {
                        "200": {
                            "description": "The quote",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Quote"}
                                }
                            },
                        },
                        "400": _error("Bad input, or a body that is not a JSON object"),
                        "401": _error("No valid API key"),
                        "403": _error("The PIN does not match the card's serial"),
                        "404": _error("No such card"),
                        "409": _error("The card cannot be used at this shop now"),
                        "413": _error("A body of more than 64 KB"),
                        "429": _error(TOO_MANY),
                    },
                }
            },
            "/redemptions": {
                "post": {
                    "operationId": "redeem",
                    "summary": "Record a redemption, exactly once per Idempotency-Key",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": True,
                            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{8,64}$"},
                            "description": "A new random key per sale; send the same key again "
                            "when retrying, and the first answer comes back.",
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": CARD_REQUEST}},
                    },
                    "responses": {
                        "201": {
                            "description": "Recorded",
                            "content": {"application/json": {"schema": REDEMPTION}},
                        },
                        "200": {
                            "description": "Already recorded with this key: the first answer",
                            "content": {"application/json": {"schema": REDEMPTION}},
                        },
                        "400": _error("Bad input, or a body that is not a JSON object"),
                        "401": _error("No valid API key"),
                        "403": _error("The PIN does not match the card's serial"),
                        "404": _error("No such card"),
                        "409": _error("Refused (see `error`)"),
                        "413": _error("A body of more than 64 KB"),
                        "429": _error(TOO_MANY),
                    },
                },
                "get": {
                    "operationId": "listRedemptions",
                    "summary": "The shop's redemptions of one day, with totals",
                    "parameters": [
                        {
                            "name": "date",
                            "in": "query",
                            "required": False,
                            "description": "A day, 2000-01-01 to 2099-12-31; today if not given.",
                            "schema": {
                                "type": "string",
                                "format": "date",
                                "pattern": "^20[0-9]{2}-[0-9]{2}-[0-9]{2}$",
                            },
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The day",
                            "content": _json(_ref("Day")),
                        },
                        "400": _error("Bad date"),
                        "401": _error("No valid API key"),
                        "429": _error("Too many requests"),
                    },
                },
            },
            "/redemptions/{id}/void": {
                "post": {
                    "operationId": "voidRedemption",
                    "summary": "Void one of the shop's own redemptions within 10 minutes",
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer"},
                        }
                    ],
                    "requestBody": {
                        "required": False,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"reason": {"type": "string", "maxLength": 200}},
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "Voided",
                            "content": {"application/json": {"schema": REDEMPTION}},
                        },
                        "400": _error("A body that is not a JSON object"),
                        "401": _error("No valid API key"),
                        "404": _error("No such redemption"),
                        "409": _error("Already voided, or too late"),
                        "413": _error("A body of more than 64 KB"),
                        "429": _error("Too many requests"),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message"],
                    "properties": {
                        "error": {"type": "string", "examples": REFUSAL_CODES},
                        "message": {"type": "string"},
                    },
                },
                "Quote": {
                    "type": "object",
                    "properties": {
                        "card": {"type": "string"},
                        "campaign": {"type": "string"},
                        "rule": {"type": "string"},
                        "uses_left": {"type": ["integer", "null"]},
                        "bill_fen": {"type": "integer"},
                        "discount_fen": {"type": "integer"},
                        "pay_fen": {"type": "integer"},
                        "pay": {"type": "string"},
                    },
                },
                "Day": {
                    "type": "object",
                    "properties": {
                        "date": {"type": "string", "format": "date"},
                        "count": {"type": "integer"},
                        "bills_fen": {"type": "integer"},
                        "discounts_fen": {"type": "integer"},
                        "paid_fen": {"type": "integer"},
                        "redemptions": {"type": "array", "items": REDEMPTION},
                    },
                },
            },
        },
    }
