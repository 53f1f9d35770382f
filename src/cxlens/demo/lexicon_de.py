"""German grammar of the demo company's comments and tickets (same structure as ``lexicon_en``).

German openers are whole sentences (a lead-in such as "Leider" would need verb-second order).
"""

from __future__ import annotations

MATCH: dict[str, tuple[str, ...]] = {
    "billing_errors": ("rechnung", "abgebucht", "erstattung", "gutschrift"),
    "app_crashes": ("stürzt", "absturz", "friert"),
    "connection_drops": ("bricht", "abbrüche", "ausfall", "kein internet", "getrennt"),
    "price_increase": ("preis", "teuer"),
    "login_codes": ("code",),
    "great_speed": ("geschwindigkeit", "schnell"),
    "good_value": ("lohnt sich", "gutes angebot", "euro wert"),
    "installation_delay": ("techniker", "installation", "router", "liefer"),
    "easy_setup": ("einrichtung", "eingerichtet"),
    "checkout_failure": ("bezahl", "kasse", "checkout"),
    "easy_checkout": ("einfach", "unkompliziert"),
    "slow_support": ("warte", "gewartet", "dauerte"),
    "helpful_staff": ("freundlich", "hilfsbereit"),
}

CLAUSES: dict[str, tuple[str, ...]] = {
    "billing_errors": (
        "mir wurde [im {month}|diesen Monat|letzten Monat] doppelt abgebucht",
        "die [letzte|aktuelle] Rechnung ist [falsch|fehlerhaft|um {amount} € zu hoch]",
        "ich warte immer noch auf die [Erstattung|Gutschrift] [von {amount} €|für die doppelte Abbuchung]",
        "schon wieder ein Fehler auf der Rechnung",
        "auf der Rechnung stehen [Extras|Gebühren], die ich nie bestellt habe",
    ),
    "app_crashes": (
        "die App [stürzt ständig ab|stürzt jedes Mal ab|friert ständig ein] [auf meinem {device}|seit dem"
        " letzten Update|mitten im Film]",
        "[wir können|ich kann] nichts schauen, weil die App [abstürzt|einfriert]",
        "[schon wieder|noch] ein Absturz der App [heute Abend|während des Spiels]",
    ),
    "connection_drops": (
        "die Verbindung bricht [ständig|jeden Abend|{times} Mal am Tag] ab",
        "[schon wieder|wieder] ein Ausfall [von {days} Tagen|am {weekday}|in meiner Gegend]",
        "wir hatten [{days} Tage|das ganze Wochenende|{hours} Stunden] kein Internet",
        "ständige [Verbindungsabbrüche|Abbrüche] [seit Wochen|seit {weekday}]",
        "das WLAN wird [ständig|nachts] getrennt",
    ),
    "price_increase": (
        "der Preis ist [schon wieder|ohne Ankündigung|um {amount} €] gestiegen",
        "[viel|einfach] zu teuer für [das, was man bekommt|diese Leistung]",
        "[noch eine|eine weitere] Preiserhöhung [dieses Jahr|im {month}]",
    ),
    "login_codes": (
        "der [Login-Code|Bestätigungscode|SMS-Code] [kommt nie an|kommt nicht an|kommt viel zu spät]",
        "ich kann mich nicht anmelden, weil [kein Code kommt|der Code nie ankommt]",
        "[{times} Mal|mehrmals] einen neuen Code angefordert und [nichts|immer noch nichts]",
    ),
    "great_speed": (
        "die Geschwindigkeit ist [super|top|genau wie versprochen]",
        "[richtig|sehr|super] schnelles Internet [auch abends|im ganzen Haus]",
    ),
    "good_value": (
        "[das|es] lohnt sich [total|wirklich]",
        "[ein wirklich|ein] gutes Angebot für [das Geld|{plan}]",
        "jeden Euro wert",
    ),
    "installation_delay": (
        "der Techniker [ist nie gekommen|kam {days} Tage zu spät|hat zweimal abgesagt]",
        "die Installation hat [{days} Tage|{weeks} Wochen|ewig] gedauert",
        "der Router [kam {days} Tage zu spät|wurde an die falsche Adresse geliefert]",
        "die Lieferung des Routers wurde [verschoben|{times} Mal verschoben]",
    ),
    "easy_setup": (
        "die Einrichtung war [kinderleicht|in Minuten erledigt|ein Klacks]",
        "alles war [in Minuten|sofort] eingerichtet",
    ),
    "checkout_failure": (
        "die Bezahlung [ist abgebrochen|hat nicht funktioniert|hing] [beim letzten Schritt|{times} Mal]",
        "die Bezahlseite [zeigte einen Fehler|lud ewig|war kaputt]",
        "ich konnte online nicht abschließen, [die Kasse|der Checkout] ging nicht",
    ),
    "easy_checkout": (
        "die Bestellung war [einfach|super einfach|unkompliziert]",
        "online abschließen ging [schnell und einfach|total unkompliziert]",
    ),
    "slow_support": (
        "ich habe [{days} Tage|{hours} Stunden|ewig] auf eine Antwort gewartet",
        "[{times}0 Minuten|über eine Stunde] in der Warteschleife",
        "es dauerte [{days} Tage|über eine Woche], bis das gelöst war",
    ),
    "helpful_staff": (
        "[der Mitarbeiter|die Mitarbeiterin|der Berater] war [sehr freundlich|super hilfsbereit]",
        "{name} hat das [sofort|in Minuten] gelöst, sehr freundlich",
    ),
}

OPENERS: dict[int, tuple[str, ...]] = {
    0: ("Katastrophe.", "Unverschämt.", "Ich habe die Nase voll.", "Unglaublich.", "Eine Frechheit."),
    1: ("Enttäuscht.", "Naja.", "Nicht so toll.", "Ehrlich gesagt nicht zufrieden."),
    2: ("Insgesamt okay.", "Geht so.", "Ganz in Ordnung.", "Gemischte Gefühle."),
    3: ("Sehr zufrieden.", "Gute Erfahrung.", "Alles gut.", "Bin zufrieden."),
    4: ("Super!", "Absolut top!", "Bester Anbieter bisher.", "Begeistert!"),
}

GENERIC: dict[int, tuple[str, ...]] = {
    0: ("der schlechteste Anbieter, den ich je hatte", "nie wieder", "ich kündige, sobald ich kann",
        "eine einzige Katastrophe"),
    1: ("könnte viel besser sein", "nicht das, was ich erwartet habe", "es ist schlechter geworden",
        "eher enttäuschend"),
    2: ("ganz okay", "erfüllt seinen Zweck", "nichts Besonderes", "durchschnittlich"),
    3: ("bin zufrieden", "funktioniert gut", "keine Beschwerden", "guter Service"),
    4: ("ich liebe es", "hervorragender Service", "absolut empfehlenswert", "alles perfekt"),
}

SHORT: dict[int, tuple[str, ...]] = {
    0: ("Katastrophe", "Schlecht", "Nie wieder"),
    1: ("Naja", "Geht so", "Mäßig"),
    2: ("ok", "Okay", "Passt"),
    3: ("Gut", "Zufrieden", "Alles gut"),
    4: ("Super!", "Top", "Perfekt"),
}

CLOSERS: dict[int, tuple[str, ...]] = {
    0: ("Ich kündige.", "Inakzeptabel!", "Bringt das endlich in Ordnung!"),
    1: ("Bitte verbessern.", "Sehr ärgerlich."),
    2: ("Mal sehen.", "Das war's."),
    3: ("Danke!", "Weiter so."),
    4: ("Weiter so!", "Vielen Dank!"),
}

CONTEXT = ("[ich bin|wir sind] seit [{times} Jahren|ein paar Monaten] Kunde", "wir haben {plan} zu Hause",
           "[ich nutze|wir nutzen] es vor allem [zum Streamen|fürs Homeoffice|für Fußball]")

MIXED_POSITIVE = ("sonst bin ich zufrieden", "insgesamt passt es", "der Rest funktioniert gut")
MIXED_NEGATIVE = ("insgesamt bin ich unzufrieden", "der Rest ist leider mangelhaft")

AND_CONNECTORS = (", und ", ". Außerdem: ", ". Dazu kommt: ")
BUT_CONNECTORS = (", aber ", ". Allerdings: ", ", doch ")

EMOJI: dict[int, tuple[str, ...]] = {
    0: ("😡", "😤", "👎"), 1: ("🙄", "😕"), 2: ("🤷", "😐"), 3: ("🙂", "👍"), 4: ("😍", "👏", "🙌"),
}

SLOTS: dict[str, tuple[str, ...]] = {
    "month": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
              "November", "Dezember"),
    "weekday": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "device": ("iPhone", "Android-Handy", "Samsung-Fernseher", "iPad", "Laptop", "Fire Stick"),
    "hour": ("20 Uhr", "21 Uhr", "22 Uhr"),
    "name": ("Frau Müller", "Herr Schmidt", "Jonas", "der Kollege"),
}

SUBJECTS: dict[str, tuple[str, ...]] = {
    "billing": ("Fehler in der Rechnung", "Doppelte Abbuchung", "Erstattung fehlt"),
    "pricing": ("Preiserhöhung", "Frage zum Preis"),
    "app": ("App stürzt ab", "Problem mit der TV-App"),
    "connectivity": ("Kein Internet", "Verbindungsabbrüche", "Störung"),
    "installation": ("Techniker nicht gekommen", "Router-Lieferung verspätet"),
    "login": ("Code kommt nicht an", "Anmeldung nicht möglich"),
    "checkout": ("Fehler bei der Bezahlung", "Online-Abschluss nicht möglich"),
    "account": ("Daten ändern", "Neue E-Mail-Adresse"),
    "plan_change": ("Tarifwechsel", "Wechsel zu {plan}"),
    "moving": ("Umzug", "Umzug des Anschlusses"),
    "cancellation": ("Kündigung", "Vertrag kündigen"),
    "general_question": ("Frage zum Vertrag", "Allgemeine Frage"),
}

TOPIC_CLAUSES: dict[str, tuple[str, ...]] = {
    "account": ("ich möchte meine [E-Mail-Adresse|Telefonnummer|Bankverbindung] ändern",),
    "plan_change": ("ich möchte [zum nächsten Monat|so bald wie möglich] zu {plan} wechseln",),
    "moving": ("ich ziehe [nächsten Monat|in {weeks} Wochen] um und brauche den Anschluss an der neuen"
               " Adresse",),
    "general_question": ("welche Sender sind im TV-Paket enthalten?", "wann endet mein Vertrag?"),
}

CANCEL_LEADS = ("ich möchte meinen Vertrag kündigen", "bitte kündigen Sie meinen Vertrag [zum Monatsende"
                "|schnellstmöglich]")
CANCEL_REASONS = ("ich ziehe ins Ausland", "ich habe ein besseres Angebot gefunden", "ich nutze es zu wenig")
BECAUSE = (". Grund: ", " – ")

GREETINGS = ("Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,", "")
REQUESTS = ("Bitte kümmern Sie sich darum.", "Ich brauche dringend eine Lösung.", "Bitte rufen Sie mich zurück.",
            "Danke im Voraus.")
SIGNOFFS = ("Danke", "Viele Grüße", "Mit freundlichen Grüßen", "Gruß", "")
SUBJECT_PREFIXES = ("DRINGEND: ", "AW: ", "")
