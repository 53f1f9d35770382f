"""The designed parameters of the demo company: every number the generator plants lives here.

Brightwave is a fictional home broadband and streaming-TV provider that sells monthly plans
(subscriptions) and one-off items in its store (film rentals, add-on packs, devices: the orders).
Its prospects and customers meet it on the web, in the app, on the phone, by e-mail, in chat and in
its shops, along the journey Awareness → Consideration → Purchase → Onboarding → Retention/Service →
Loyalty → Advocacy.

Time inside the generator is measured in days since ``now - HORIZON_DAYS`` (float64). The truths
(:mod:`cxlens.demo.truths`) are computed from these constants only, never from generated rows.
"""

from __future__ import annotations

from dataclasses import dataclass

GENERATOR_VERSION = "1.0.0"
COMPANY = "Brightwave"

HORIZON_DAYS = 730.0  # every timestamp lies within this many days before now
PERIOD_DAYS = 120.0  # relationship NPS survey cadence (and the churn window after each survey)
FIRST_SURVEY_DAYS = 45.0  # first relationship survey this many days after the purchase
CURRENCY = "EUR"

STAGES: tuple[str, ...] = (
    "Awareness", "Consideration", "Purchase", "Onboarding", "Retention/Service", "Loyalty", "Advocacy",
)


@dataclass(frozen=True)
class Touchpoint:
    name: str
    stage: str
    channel: str
    direct: bool
    description: str


TOUCHPOINTS: tuple[Touchpoint, ...] = (
    Touchpoint("search_ad", "Awareness", "web", True, "Paid search advert for Brightwave plans."),
    Touchpoint("social_media", "Awareness", "social", False, "Posts and mentions on social networks."),
    Touchpoint("review_site", "Awareness", "web", False, "Independent review and ranking sites."),
    Touchpoint("store_window", "Awareness", "store", True, "Shop window displays and high-street promotions."),
    Touchpoint("plans_page", "Consideration", "web", True, "Plans and prices page on the website."),
    Touchpoint("coverage_check", "Consideration", "web", True, "Address coverage check for fibre availability."),
    Touchpoint("comparison_site", "Consideration", "web", False, "Price comparison sites listing the plans."),
    Touchpoint("sales_chat", "Consideration", "chat", True, "Chat with a sales advisor before buying."),
    Touchpoint("sales_call", "Consideration", "phone", True, "Call with the sales line."),
    Touchpoint("store_visit", "Consideration", "store", True, "Visit to a Brightwave shop to compare plans."),
    Touchpoint("web_checkout", "Purchase", "web", True, "Online sign-up and payment on the website."),
    Touchpoint("app_checkout", "Purchase", "app", True, "Sign-up and payment in the mobile app."),
    Touchpoint("phone_order", "Purchase", "phone", True, "Sign-up over the phone with a sales advisor."),
    Touchpoint("store_signup", "Purchase", "store", True, "Sign-up in a Brightwave shop."),
    Touchpoint("welcome_email", "Onboarding", "email", True, "Welcome e-mail with the installation details."),
    Touchpoint("router_delivery", "Onboarding", "courier", False, "A courier partner delivers the router."),
    Touchpoint("technician_visit", "Onboarding", "field", True, "A technician installs fibre and equipment."),
    Touchpoint("app_activation", "Onboarding", "app", True, "First log-in and activation of the TV app."),
    Touchpoint("monthly_bill", "Retention/Service", "email", True, "The monthly bill sent by e-mail."),
    Touchpoint("tv_app", "Retention/Service", "app", True, "Streaming sessions in the TV app."),
    Touchpoint("account_login", "Retention/Service", "app", True, "Log-in with a one-time code sent by SMS."),
    Touchpoint("help_center", "Retention/Service", "web", True, "Self-service help articles."),
    Touchpoint("support_phone", "Retention/Service", "phone", True, "Customer service phone line."),
    Touchpoint("support_chat", "Retention/Service", "chat", True, "Customer service chat."),
    Touchpoint("support_email", "Retention/Service", "email", True, "Customer service by e-mail."),
    Touchpoint("support_web", "Retention/Service", "web", True, "Contact form on the website."),
    Touchpoint("store_service", "Retention/Service", "store", True, "Help with equipment in a shop."),
    Touchpoint("relationship_survey", "Loyalty", "email", True, "Relationship NPS survey every 120 days."),
    Touchpoint("loyalty_rewards", "Loyalty", "app", True, "Joining and using the rewards programme."),
    Touchpoint("plan_upgrade", "Loyalty", "web", True, "Upgrade to a faster plan."),
    Touchpoint("renewal_offer", "Loyalty", "email", True, "Contract renewal offer before the anniversary."),
    Touchpoint("referral_program", "Advocacy", "app", True, "Referring a friend with a referral link."),
    Touchpoint("review_posted", "Advocacy", "web", False, "A review posted on an independent site."),
    Touchpoint("social_share", "Advocacy", "social", False, "Sharing or recommending Brightwave on social media."),
)

TOUCHPOINT_INDEX: dict[str, int] = {t.name: i for i, t in enumerate(TOUCHPOINTS)}

# --------------------------------------------------------------------------------------------------
# Customers
# --------------------------------------------------------------------------------------------------

SEGMENTS = ("consumer", "smb", "enterprise")
SEGMENT_WEIGHTS = (0.80, 0.15, 0.05)
#: Shift of the latent satisfaction (standard normal for consumers) by segment.
SEGMENT_SATISFACTION = (0.0, 0.2, 0.7)

COUNTRIES = ("IE", "NL", "DE", "FR", "ES", "BE", "AT", "PT")
COUNTRY_WEIGHTS = (0.28, 0.17, 0.16, 0.12, 0.12, 0.06, 0.05, 0.04)
#: The customer's own language where it is not English; they answer in it with this probability.
COUNTRY_LANGUAGE = {"DE": "de", "AT": "de", "FR": "fr", "BE": "fr", "ES": "es"}
NATIVE_ANSWER_SHARE = 0.30
LANGUAGES = ("en", "es", "de", "fr")

AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
AGE_WEIGHTS = (0.10, 0.25, 0.24, 0.19, 0.13, 0.09)

ACQUISITION_CHANNELS = ("search", "social", "referral", "store", "comparison")
ACQUISITION_WEIGHTS = (0.34, 0.22, 0.14, 0.16, 0.14)


@dataclass(frozen=True)
class Plan:
    name: str
    segment: str
    weight: float  # share within the segment
    mrr: float  # consumer price; business plans: base + per-seat
    per_seat: float = 0.0
    technician: bool = False  # installed by a technician (else the router is delivered)


PLANS: tuple[Plan, ...] = (
    Plan("Fibre 150", "consumer", 0.45, 34.99),
    Plan("Fibre 500", "consumer", 0.35, 49.99),
    Plan("Fibre 1000 + TV", "consumer", 0.20, 74.99, technician=True),
    Plan("Business Fibre", "smb", 1.0, 39.0, per_seat=9.0, technician=True),
    Plan("Enterprise Connect", "enterprise", 1.0, 350.0, per_seat=6.0, technician=True),
)
SMB_SEATS = (2, 25)  # uniform integer range
ENTERPRISE_SEATS_MEDIAN = 60.0
UPGRADE_PROBABILITY = 0.10  # consumer plans below the top plan
UPGRADE_DAYS = (60.0, 400.0)

# --------------------------------------------------------------------------------------------------
# Journey (funnel)
# --------------------------------------------------------------------------------------------------

SIGNUP_SHAPE = 0.85  # first-seen day = HORIZON * U**shape (more recent customers, a growing base)
SECOND_AWARENESS_PROBABILITY = 0.4
CONSIDERATION_PROBABILITY = 0.82
CONSIDERATION_EVENTS_EXTRA = (2, 0.35)  # 1 + Binomial(n, p) consideration events
CONSIDERATION_GAP_DAYS = 2.0  # exponential mean between consideration events
CHECKOUT_PROBABILITY = 0.78  # of those who considered
CHECKOUT_GAP_DAYS = 1.5
CHECKOUT_TOUCHPOINTS = ("web_checkout", "app_checkout", "phone_order", "store_signup")
CHECKOUT_WEIGHTS = (0.50, 0.20, 0.15, 0.15)
CHECKOUT_CHANNELS = ("web", "app", "phone", "store")
CHECKOUT_CONVERSION = (0.84, 0.86, 0.90, 0.93)

#: Planted truth 3: the web checkout is broken between these day offsets before now.
BROKEN_TOUCHPOINT = "web_checkout"
BROKEN_START_DAYS_BEFORE_NOW = 200  # window start = midnight of (now - 200 days)
BROKEN_LENGTH_DAYS = 21
BROKEN_CONVERSION = 0.30
CHECKOUT_TICKET_PROBABILITY = {"broken": 0.40, "normal": 0.06}
CHECKOUT_COMMENT_MENTION = {"broken": 0.90, "normal": 0.40}

# --------------------------------------------------------------------------------------------------
# Onboarding
# --------------------------------------------------------------------------------------------------

DELIVERY_DAYS = (1.5, 5.0)  # router by courier
TECHNICIAN_DAYS = (3.0, 10.0)
INSTALL_DELAY_PROBABILITY = 0.10
INSTALL_DELAY_DAYS = (7.0, 21.0)
EASY_SETUP_PROBABILITY = 0.45  # when not delayed
ACTIVATION_PROBABILITY = 0.85
EARLY_CHURN = {"delayed": 0.15, "on_time": 0.02}
EARLY_CHURN_DAYS = (5.0, 30.0)  # after the delivery / visit, and always before the first survey

# --------------------------------------------------------------------------------------------------
# Latent satisfaction and scores
# --------------------------------------------------------------------------------------------------

#: Relationship NPS: u = z + sum(theme effects in the period) + N(0, NPS_NOISE);
#: score = clip(floor(NPS_INTERCEPT + NPS_SLOPE * u + 0.5), 0, 10).
NPS_NOISE = 0.6
NPS_INTERCEPT = 7.6
NPS_SLOPE = 1.8

#: Planted truth 1: churn within PERIOD_DAYS after a relationship survey, by the NPS category.
CHURN_AFTER_SURVEY = {"detractor": 0.18, "passive": 0.06, "promoter": 0.025}

#: CSAT (1-5) and CES (1-7, 7 = very easy) from a latent u by cut points.
CSAT_CUTS = (-2.0, -1.2, -0.5, 0.5)
CES_CUTS = (-2.2, -1.5, -0.9, -0.3, 0.3, 1.0)
CSAT_TOP_BOX = 4

#: Onboarding CSAT latent: z + delay effect + N(0, noise).
ONBOARDING_DELAY_EFFECT = -1.4
ONBOARDING_NOISE = 0.8
#: Checkout CES latent: CHECKOUT_Z_WEIGHT * z + failure effects + N(0, noise).
CHECKOUT_Z_WEIGHT = 0.5
CHECKOUT_FAILED_EFFECT = -1.8
CHECKOUT_BROKEN_EXTRA_EFFECT = -0.6
CHECKOUT_NOISE = 0.8

#: Post-ticket CSAT latent (planted truths 5 and 6):
#: z + channel effect + RESOLUTION_EFFECT * log2(hours / RESOLUTION_REFERENCE_HOURS)
#:   + REOPENED_EFFECT * reopened + N(0, TICKET_CSAT_NOISE)
TICKET_CHANNEL_EFFECT = {"phone": -1.0, "chat": 0.0, "email": -0.1, "web": 0.0}
RESOLUTION_EFFECT = -0.35
RESOLUTION_REFERENCE_HOURS = 24.0
REOPENED_EFFECT = -0.5
TICKET_CSAT_NOISE = 0.8

RESPONSE_RATE = {"relationship": 0.30, "onboarding": 0.35, "support": 0.35, "checkout": 0.25}
COMMENT_RATE_NPS = {"detractor": 0.65, "passive": 0.40, "promoter": 0.50}
COMMENT_RATE_LOW = 0.60  # CSAT 1-3 / CES 1-4
COMMENT_RATE_HIGH = 0.40
RATING_ANSWER_RATE = 0.90  # the extra 1-5 rating questions

SURVEYS = {
    "nps-relationship": ("relationship_survey", "Relationship NPS every 120 days after the purchase"
                         " (+45 days); questions nps, q_value, q_reliability, comment."),
    "ces-checkout": ("web_checkout|app_checkout", "Effort of the online checkout, shown at the end of a"
                     " web or app checkout; questions ces, comment."),
    "csat-onboarding": ("router_delivery|technician_visit", "Satisfaction with the installation;"
                        " questions csat, ces, q_delivery, comment."),
    "csat-support": ("support_phone|support_chat|support_email|support_web", "Satisfaction after a"
                     " resolved ticket; questions csat, ces, comment."),
}

# --------------------------------------------------------------------------------------------------
# Themes (experiences that cause scores, tickets and comments)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Theme:
    name: str
    label: str
    polarity: str  # "negative" | "positive"
    keywords: tuple[str, ...]  # typical English words and phrases
    scope: str  # period | onboarding | support | checkout
    nps_effect: float = 0.0  # shift of the latent satisfaction of the period's NPS
    period_probability: float = 0.0  # chance to experience it in a 120-day period (scope period)
    ticket_probability: float = 0.0
    ticket_topic: str | None = None
    mention_probability: float = 0.0  # chance a comment of someone who experienced it mentions it


THEMES: tuple[Theme, ...] = (
    Theme("billing_errors", "Billing errors", "negative",
          ("billing error", "charged twice", "wrong invoice", "overcharged", "refund"),
          "period", -1.5, 0.06, 0.60, "billing", 0.80),
    Theme("app_crashes", "App crashes", "negative",
          ("app crashes", "keeps crashing", "freezes", "crash"),
          "period", -1.2, 0.08, 0.25, "app", 0.80),
    Theme("connection_drops", "Connection drops and outages", "negative",
          ("drops", "outage", "disconnects", "offline", "cutting out"),
          "period", -1.0, 0.10, 0.45, "connectivity", 0.75),
    Theme("price_increase", "Price increases", "negative",
          ("price went up", "too expensive", "price increase", "cost"),
          "period", -0.6, 0.05, 0.12, "pricing", 0.75),
    Theme("login_codes", "Login codes not arriving", "negative",
          ("login code", "verification code", "code never arrives", "sms code"),
          "period", -0.8, 0.002, 0.50, "login", 0.80),
    Theme("great_speed", "Fast, reliable speed", "positive",
          ("speed", "fast", "no buffering"), "period", 0.5, 0.20, 0.0, None, 0.50),
    Theme("good_value", "Good value", "positive",
          ("value for money", "worth it", "good deal"), "period", 0.4, 0.12, 0.0, None, 0.50),
    Theme("installation_delay", "Installation delays", "negative",
          ("technician", "installation", "router delivery", "engineer"),
          "onboarding", -0.8, INSTALL_DELAY_PROBABILITY, 0.50, "installation", 0.80),
    Theme("easy_setup", "Easy setup", "positive",
          ("setup", "set up", "up and running", "plug and play"),
          "onboarding", 0.4, EASY_SETUP_PROBABILITY * (1 - INSTALL_DELAY_PROBABILITY), 0.0, None, 0.50),
    Theme("checkout_failure", "Checkout failures", "negative",
          ("checkout", "payment page", "error"), "checkout"),
    Theme("easy_checkout", "Easy checkout", "positive",
          ("easy", "simple", "smooth"), "checkout"),
    Theme("slow_support", "Slow support", "negative",
          ("waited", "on hold", "took days", "chase"), "support"),
    Theme("helpful_staff", "Helpful staff", "positive",
          ("helpful", "friendly", "agent", "sorted"), "support"),
)

THEME_INDEX: dict[str, int] = {t.name: i for i, t in enumerate(THEMES)}
#: Themes experienced within relationship periods (their effects enter the relationship NPS).
PERIOD_THEMES = tuple(t.name for t in THEMES if t.scope == "period")
ONBOARDING_THEMES = tuple(t.name for t in THEMES if t.scope == "onboarding")
MAX_THEMES_PER_COMMENT = 2

#: Planted truth 4: the login-code issue emerges in the last week before now.
EMERGING_THEME = "login_codes"
EMERGING_DAYS = 7.0
EMERGING_PROBABILITY = 0.10  # per customer subscribed during the last week
EMERGING_TICKET_PROBABILITY = 0.55
EMERGING_FAILED_LOGINS = (1, 4)  # failed account_login events per affected customer

#: Support comments: mention slow support when resolution took long, helpful staff when quick and good.
SLOW_SUPPORT_HOURS = 48.0
SLOW_SUPPORT_MENTION = 0.60
HELPFUL_STAFF_MENTION = 0.50
TICKET_THEME_MENTION = 0.40
EMERGING_TICKET_MENTION = 0.85
EMERGING_COMMENT_RATE = 0.80  # customers hit by the wave comment more often after their ticket

# --------------------------------------------------------------------------------------------------
# Tickets
# --------------------------------------------------------------------------------------------------

TICKET_CHANNELS = ("phone", "chat", "email", "web")
TICKET_CHANNEL_WEIGHTS = (0.35, 0.30, 0.25, 0.10)
#: First response: log-normal (median hours, sigma) by channel.
FIRST_RESPONSE = {"phone": (0.07, 0.7), "chat": (0.035, 0.8), "email": (5.0, 0.9), "web": (8.0, 0.9)}
#: Resolution: log-normal (median hours, sigma) by channel, times a topic multiplier.
RESOLUTION = {"phone": (18.0, 1.0), "chat": (14.0, 1.0), "email": (30.0, 1.0), "web": (36.0, 1.0)}
TOPIC_MULTIPLIER = {
    "billing": 1.4, "pricing": 0.8, "app": 1.2, "connectivity": 2.0, "installation": 2.5, "login": 0.6,
    "checkout": 0.5, "account": 0.8, "plan_change": 0.7, "moving": 1.5, "cancellation": 0.6,
    "general_question": 0.7,
}
GENERAL_TICKETS_PER_YEAR = 0.35
GENERAL_TOPICS = ("account", "plan_change", "moving", "general_question")
GENERAL_TOPIC_WEIGHTS = (0.35, 0.25, 0.15, 0.25)
CANCELLATION_TICKET_PROBABILITY = 0.35
ABANDONED_TICKET_PROBABILITY = 0.03  # never resolved (status pending)
REOPEN_PROBABILITY = (0.05, 0.15)  # resolution up to / over 72 hours
REOPEN_HOURS = 72.0
CLOSED_AFTER_DAYS = 3.0  # resolved tickets older than this are "closed"
TICKET_DELAY_DAYS = 0.5  # exponential mean from the experience to the ticket

# --------------------------------------------------------------------------------------------------
# Orders: BG/NBD purchasing and Gamma-Gamma spend (store: rentals, add-ons, devices)
# --------------------------------------------------------------------------------------------------

BGNBD = {"r": 0.55, "alpha": 40.0, "a": 0.7, "b": 3.0}  # alpha in days
GAMMA_GAMMA = {"p": 4.0, "q": 4.0, "gamma": 22.5}
ORDER_CHANNELS = ("web", "app", "store", "phone")
ORDER_CHANNEL_WEIGHTS = (0.45, 0.40, 0.10, 0.05)
ORDER_STATUS = ("completed", "refunded", "cancelled")
ORDER_STATUS_WEIGHTS = (0.96, 0.03, 0.01)

# --------------------------------------------------------------------------------------------------
# Other interactions
# --------------------------------------------------------------------------------------------------

APP_SESSION_DAYS = 30.0  # mean days between tv_app sessions
LOGIN_DAYS = 60.0
STORE_SERVICE_DAYS = 600.0
HELP_CENTER_BEFORE_TICKET = 0.40
LOYALTY_JOIN_DAYS = 90.0
RENEWAL_OFFER_DAY = 335.0
REFERRAL_AFTER_PROMOTER = 0.20
SOCIAL_SHARE_AFTER_PROMOTER = 0.05
REVIEW_AFTER = {"promoter": 0.06, "detractor": 0.10}

# --------------------------------------------------------------------------------------------------
# Extra 1-5 rating questions of the relationship survey (drivers of NPS for key-driver analysis)
# --------------------------------------------------------------------------------------------------

#: latent = RATING_Z_WEIGHT * z + RATING_INTERCEPT + sum(effects of the period's themes) + N(0, noise),
#: answer = cut(latent, CSAT_CUTS)
RATING_Z_WEIGHT = 0.6
RATING_INTERCEPT = 0.3
RATING_NOISE = 0.7
RATING_EFFECTS = {
    "q_value": {"billing_errors": -1.0, "price_increase": -1.2, "good_value": 0.8},
    "q_reliability": {"connection_drops": -1.5, "app_crashes": -0.5, "great_speed": 0.8},
}
#: Onboarding survey q_delivery (1-5): 0.3 z + 0.6 + DELIVERY_DELAY_EFFECT * delayed + N(0, 0.7)
DELIVERY_DELAY_EFFECT = -2.0
EASY_SETUP_CSAT_EFFECT = 0.3
SURVEY_DELAY_DAYS = 1.5  # exponential mean from the survey invitation to the answer (capped at 5 days)
