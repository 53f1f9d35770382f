"""French grammar of the demo company's comments and tickets (same structure as ``lexicon_en``)."""

from __future__ import annotations

MATCH: dict[str, tuple[str, ...]] = {
    "billing_errors": ("factur", "prélev", "rembours"),
    "app_crashes": ("plante", "crash", "se bloque", "se fige"),
    "connection_drops": ("coupe", "coupure", "panne", "sans internet", "déconnect"),
    "price_increase": ("prix", "trop cher", "augment"),
    "login_codes": ("code",),
    "great_speed": ("vitesse", "rapide", "débit"),
    "good_value": ("le coup", "rentable"),
    "installation_delay": ("technicien", "installation", "routeur", "livr", "box"),
    "easy_setup": ("configur", "mise en service", "branché"),
    "checkout_failure": ("paiement",),
    "easy_checkout": ("facile", "simple"),
    "slow_support": ("attend", "attente", "fallu"),
    "helpful_staff": ("aimable", "serviable", "sympa"),
}

CLAUSES: dict[str, tuple[str, ...]] = {
    "billing_errors": (
        "on m'a prélevé deux fois [en {month}|ce mois-ci]",
        "la facture [de {month}|du mois] est [fausse|incorrecte|trop élevée de {amount} €]",
        "j'attends toujours le remboursement [de {amount} €|promis]",
        "encore une erreur sur la facture",
        "des frais inconnus sur ma facture [encore une fois|ce mois-ci]",
    ),
    "app_crashes": (
        "l'appli [plante|plante sans arrêt|se bloque] [sur mon {device}|depuis la dernière mise à jour"
        "|en plein film]",
        "impossible de regarder quoi que ce soit, l'application [plante|se fige] [au bout de quelques minutes"
        "|tout le temps]",
        "encore un crash de l'appli [ce soir|pendant le match]",
    ),
    "connection_drops": (
        "la connexion [coupe|se coupe] [tous les soirs|{times} fois par jour|vers {hour}]",
        "[encore une|une] panne [de {days} jours|le {weekday}|dans mon quartier]",
        "nous étions sans internet [pendant {days} jours|tout le week-end|{hours} heures]",
        "des coupures [constantes|tous les jours] depuis [des semaines|{weekday}]",
        "le wifi se déconnecte [sans arrêt|la nuit]",
    ),
    "price_increase": (
        "le prix a [encore augmenté|augmenté de {amount} € par mois|augmenté sans prévenir]",
        "[beaucoup|bien] trop cher pour ce que c'est",
        "[encore une|une nouvelle] augmentation [cette année|en {month}]",
    ),
    "login_codes": (
        "le code [de connexion|de vérification|par SMS] [n'arrive jamais|n'arrive pas|arrive trop tard]",
        "impossible de me connecter, [le code n'arrive pas|je ne reçois jamais le code]",
        "j'ai demandé un nouveau code [{times} fois|plusieurs fois] et [rien|toujours rien]",
    ),
    "great_speed": (
        "la vitesse est [super|excellente|conforme à ce qui était promis]",
        "connexion [très|super] rapide [même le soir|dans toute la maison]",
        "le débit est [top|impressionnant]",
    ),
    "good_value": (
        "ça vaut [vraiment |largement |]le coup",
        "[très|vraiment] rentable pour {plan}",
    ),
    "installation_delay": (
        "le technicien [n'est jamais venu|est venu avec {days} jours de retard|a annulé deux fois]",
        "l'installation a pris [{days} jours|{weeks} semaines|une éternité]",
        "le routeur est arrivé [avec {days} jours de retard|à la mauvaise adresse]",
        "la livraison de la box a été [retardée|reportée {times} fois]",
    ),
    "easy_setup": (
        "la mise en service a été [très simple|rapide|un jeu d'enfant]",
        "tout était configuré [en quelques minutes|le jour même]",
        "branché et ça marche tout de suite",
    ),
    "checkout_failure": (
        "le paiement [bloquait|échouait|affichait une erreur] [à la dernière étape|{times} fois]",
        "la page de paiement [restait blanche|affichait une erreur 500]",
        "impossible de finaliser le paiement [en ligne|sur le site]",
    ),
    "easy_checkout": (
        "la souscription en ligne était [facile|très simple|rapide et facile]",
        "[super|très] facile de s'abonner en ligne",
    ),
    "slow_support": (
        "j'ai attendu [{days} jours|{hours} heures|une éternité] pour avoir une réponse",
        "[{times}0 minutes|plus d'une heure] d'attente au téléphone",
        "il a fallu [{days} jours|plus d'une semaine] pour régler le problème",
    ),
    "helpful_staff": (
        "[le conseiller|la conseillère|l'agent] était [très aimable|super sympa|vraiment serviable]",
        "{name} a réglé ça [en quelques minutes|tout de suite], très aimable",
    ),
}

OPENERS: dict[int, tuple[str, ...]] = {
    0: ("Scandaleux.", "Honnêtement,", "J'en ai marre.", "Inadmissible.", "Catastrophique."),
    1: ("Déçu.", "Bof.", "Franchement,", "Pas terrible.", "Dommage,"),
    2: ("Globalement correct.", "Mitigé.", "Ni bien ni mal.", "Dans l'ensemble,"),
    3: ("Très content.", "Bonne expérience.", "Satisfait.", "Tout va bien,"),
    4: ("Génial !", "Parfait !", "Le meilleur opérateur que j'ai eu.", "Top !"),
}

GENERIC: dict[int, tuple[str, ...]] = {
    0: ("le pire opérateur que j'ai connu", "plus jamais", "je résilie dès que possible", "une catastrophe"),
    1: ("ça pourrait être bien mieux", "ce n'est pas à la hauteur", "la qualité a baissé", "assez décevant"),
    2: ("ça va", "correct", "rien de spécial", "dans la moyenne"),
    3: ("je suis content", "ça marche bien", "rien à redire", "bon service"),
    4: ("j'adore", "service excellent", "je recommande", "tout est parfait"),
}

SHORT: dict[int, tuple[str, ...]] = {
    0: ("Nul", "Catastrophique", "Honteux"),
    1: ("Bof", "Moyen", "Décevant"),
    2: ("ok", "Correct", "Ça va"),
    3: ("Bien", "Content", "Très bien"),
    4: ("Génial !", "Parfait", "Excellent"),
}

CLOSERS: dict[int, tuple[str, ...]] = {
    0: ("Je vais résilier.", "Inacceptable !", "Réglez ça !"),
    1: ("À améliorer.", "Très agaçant."),
    2: ("Voilà.", "On verra."),
    3: ("Merci !", "Je recommande."),
    4: ("Continuez comme ça !", "Merci beaucoup !"),
}

CONTEXT = ("[je suis|nous sommes] client depuis [{times} ans|quelques mois]", "nous avons {plan} à la maison",
           "[je l'utilise|on l'utilise] surtout pour [le streaming|le télétravail|le foot]")

MIXED_POSITIVE = ("sinon je suis content", "dans l'ensemble c'est bien", "le reste fonctionne bien")
MIXED_NEGATIVE = ("dans l'ensemble je ne suis pas satisfait", "le reste laisse à désirer")

AND_CONNECTORS = (", et ", ". En plus, ", ". Et ")
BUT_CONNECTORS = (", mais ", ". Par contre, ", ", même si ")

EMOJI: dict[int, tuple[str, ...]] = {
    0: ("😡", "😤", "👎"), 1: ("🙄", "😕"), 2: ("🤷", "😐"), 3: ("🙂", "👍"), 4: ("😍", "👏", "🙌"),
}

SLOTS: dict[str, tuple[str, ...]] = {
    "month": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre"),
    "weekday": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "device": ("iPhone", "téléphone Android", "télé Samsung", "iPad", "ordinateur portable", "Fire Stick"),
    "hour": ("20h", "21h", "22h"),
    "name": ("Camille", "Julien", "Léa", "le conseiller"),
}

SUBJECTS: dict[str, tuple[str, ...]] = {
    "billing": ("Erreur de facturation", "Double prélèvement", "Remboursement en attente"),
    "pricing": ("Augmentation de prix", "Question sur le prix"),
    "app": ("L'appli plante", "Problème avec l'application TV"),
    "connectivity": ("Plus d'internet", "Coupures de connexion", "Panne"),
    "installation": ("Technicien absent", "Retard de livraison du routeur"),
    "login": ("Code non reçu", "Connexion impossible"),
    "checkout": ("Erreur de paiement", "Impossible de finaliser ma souscription"),
    "account": ("Modifier mes coordonnées", "Nouvelle adresse e-mail"),
    "plan_change": ("Changement d'offre", "Passer à {plan}"),
    "moving": ("Déménagement", "Transfert de ma ligne"),
    "cancellation": ("Résiliation", "Résilier mon contrat"),
    "general_question": ("Question sur mon contrat", "Demande d'information"),
}

TOPIC_CLAUSES: dict[str, tuple[str, ...]] = {
    "account": ("je souhaite modifier mon [adresse e-mail|numéro de téléphone|RIB]",),
    "plan_change": ("je voudrais passer à {plan} [dès le mois prochain|dès que possible]",),
    "moving": ("je déménage [le mois prochain|dans {weeks} semaines] et j'ai besoin du service à la nouvelle"
               " adresse",),
    "general_question": ("quelles chaînes sont incluses dans le bouquet TV ?", "quand se termine mon contrat ?"),
}

CANCEL_LEADS = ("je souhaite résilier mon contrat", "merci de résilier mon abonnement [à la fin du mois"
                "|dès que possible]")
CANCEL_REASONS = ("je pars à l'étranger", "j'ai trouvé une meilleure offre", "je ne l'utilise pas assez")
BECAUSE = (" car ", ". Raison : ")

GREETINGS = ("Bonjour,", "Madame, Monsieur,", "Bonsoir,", "")
REQUESTS = ("Merci de régler ce problème rapidement.", "J'ai besoin d'une solution urgente.",
            "Merci de me rappeler.", "Merci d'avance.")
SIGNOFFS = ("Merci", "Cordialement", "Bien à vous", "")
SUBJECT_PREFIXES = ("URGENT : ", "")
