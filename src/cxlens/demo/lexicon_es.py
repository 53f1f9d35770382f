"""Spanish grammar of the demo company's comments and tickets (same structure as ``lexicon_en``)."""

from __future__ import annotations

MATCH: dict[str, tuple[str, ...]] = {
    "billing_errors": ("factura", "cobr", "reembolso"),
    "app_crashes": ("se cuelga", "se bloquea", "se cierra"),
    "connection_drops": ("se corta", "cortes", "sin internet", "caída", "se cae"),
    "price_increase": ("precio", "caro", "subida"),
    "login_codes": ("código",),
    "great_speed": ("velocidad", "rápid", "rapid"),
    "good_value": ("merece la pena", "vale la pena", "lo que pagas"),
    "installation_delay": ("técnico", "instalación", "router", "entrega"),
    "easy_setup": ("configur", "funcionando"),
    "checkout_failure": ("pago",),
    "easy_checkout": ("fácil", "sencill"),
    "slow_support": ("esper", "tard"),
    "helpful_staff": ("amable", "atent", "resolvió"),
}

CLAUSES: dict[str, tuple[str, ...]] = {
    "billing_errors": (
        "me [cobraron|han cobrado] dos veces [en {month}|este mes|en la última factura]",
        "la factura de [{month}|este mes] [está mal|es incorrecta|tiene un cargo de {amount} € que no reconozco]",
        "[sigo esperando|todavía espero] el reembolso [de {amount} €|que me prometieron]",
        "[otra vez|de nuevo] un error en la factura",
        "me cobran [servicios|un paquete de TV|un equipo] que [nunca pedí|ya devolví]",
    ),
    "app_crashes": (
        "la app se [cuelga|bloquea|cierra sola] [cada vez que la abro|en mi {device}|desde la última"
        " actualización|en mitad de una película]",
        "[no puedo|no podemos] ver nada porque la aplicación se [cuelga|bloquea] [a los pocos minutos|siempre]",
        "la aplicación de TV se [cuelga|cierra] [todas las noches|durante el fútbol|constantemente]",
    ),
    "connection_drops": (
        "internet se corta [cada noche|{times} veces al día|a las {hour}|sin motivo]",
        "[hubo|tuvimos] una caída [de {days} días|de todo el día|el {weekday}] [y nadie avisó|sin explicación|]",
        "[estuvimos|estuve] sin internet [{days} días|todo el fin de semana|{hours} horas]",
        "[cortes|cortes constantes] de conexión [toda la semana|desde el {weekday}]",
        "el wifi se cae [cada dos por tres|durante las videollamadas]",
    ),
    "price_increase": (
        "el precio [ha subido|subió] [otra vez|{amount} € al mes|sin avisar]",
        "[demasiado|muy] caro para lo que [ofrecen|es]",
        "[otra|una nueva] subida de [precio|tarifa] [este año|en {month}]",
        "el precio es más alto que para los clientes nuevos",
    ),
    "login_codes": (
        "el código [de acceso|de verificación|por SMS] [nunca llega|no llega|llega tarde|llega caducado]",
        "no puedo entrar porque [no me llega el código|el código nunca llega]",
        "[he solicitado|solicité] el código [{times} veces|varias veces] y [nada|sigo sin recibirlo]",
        "[bloqueado|atascado] en la pantalla del código [desde el {weekday}|{days} días]",
    ),
    "great_speed": (
        "la velocidad es [genial|excelente|la prometida|increíble]",
        "internet [muy|súper] rápido [incluso por la noche|en toda la casa]",
        "[conexión|fibra] rapidísima",
    ),
    "good_value": (
        "[merece|vale] la pena [por lo que cuesta|totalmente]",
        "muy buena relación entre lo que pagas y lo que recibes",
    ),
    "installation_delay": (
        "el técnico [no vino|nunca apareció|llegó {days} días tarde|canceló dos veces]",
        "la instalación [tardó|se retrasó] [{days} días|{weeks} semanas|muchísimo]",
        "el router [llegó|me llegó] [{days} días tarde|a otra dirección|una semana tarde]",
        "la entrega del router se [retrasó|aplazó {times} veces]",
    ),
    "easy_setup": (
        "la configuración fue [facilísima|cosa de minutos|un paseo]",
        "[en minutos|el mismo día] estaba todo funcionando",
        "lo configuré yo [solo|sola] sin problema",
    ),
    "checkout_failure": (
        "el pago online [fallaba|daba error|se quedaba cargando] [en el último paso|{times} veces]",
        "la página de pago [no funcionaba|daba error 500|se quedó cargando]",
        "no pude [terminar|completar] el pago en la web",
        "[intenté|quise] contratar online pero el pago [no pasaba|fallaba]",
    ),
    "easy_checkout": (
        "contratar fue [fácil|muy fácil|sencillo]",
        "[muy|súper] fácil darse de alta online",
    ),
    "slow_support": (
        "[esperé|tuve que esperar] [{days} días|{hours} horas|una eternidad] para [una respuesta|que me llamaran]",
        "[me tuvieron|estuve] en espera [{times}0 minutos|más de una hora]",
        "tardaron [{days} días|más de una semana] en [resolverlo|solucionarlo]",
    ),
    "helpful_staff": (
        "[el agente|la persona del chat|el chico del teléfono] fue [muy amable|muy atento y amable]",
        "{name} me lo resolvió [en minutos|a la primera|enseguida]",
    ),
}

OPENERS: dict[int, tuple[str, ...]] = {
    0: ("Fatal.", "Estoy harto.", "Vergonzoso.", "Sinceramente,", "Indignado.", "Lo peor."),
    1: ("Decepcionado.", "La verdad,", "No muy contento.", "Regular.", "Pues nada,"),
    2: ("En general bien.", "Ni bien ni mal.", "Normal.", "Más o menos,"),
    3: ("Muy contento.", "Buena experiencia.", "Todo bien,", "Contento en general."),
    4: ("¡Encantado!", "¡Genial!", "El mejor proveedor que he tenido.", "¡Excelente!"),
}

GENERIC: dict[int, tuple[str, ...]] = {
    0: ("el peor servicio que he tenido", "no lo recomiendo a nadie", "me voy en cuanto pueda", "un desastre total"),
    1: ("podría ser mucho mejor", "no es lo que esperaba", "ha empeorado mucho", "bastante decepcionante"),
    2: ("está bien", "cumple", "nada especial", "normalito"),
    3: ("estoy contento", "funciona bien", "sin quejas", "buen servicio"),
    4: ("me encanta", "servicio excelente", "lo recomiendo", "todo perfecto"),
}

SHORT: dict[int, tuple[str, ...]] = {
    0: ("Fatal", "Un desastre", "Horrible"),
    1: ("Regular", "Mejorable", "No muy bien"),
    2: ("Bien", "Normal", "ok"),
    3: ("Bien", "Contento", "Muy bien"),
    4: ("¡Genial!", "Excelente", "Perfecto"),
}

CLOSERS: dict[int, tuple[str, ...]] = {
    0: ("¡Arréglenlo ya!", "Me doy de baja.", "Inaceptable."),
    1: ("A ver si lo mejoran.", "Muy frustrante."),
    2: ("Nada más.", "Ya veremos."),
    3: ("¡Gracias!", "Lo recomiendo."),
    4: ("¡Seguid así!", "¡Mil gracias!"),
}

CONTEXT = ("[soy cliente|somos clientes] desde hace [{times} años|unos meses]", "tenemos {plan} en casa",
           "[lo uso|lo usamos] sobre todo para [ver series|trabajar|el fútbol]")

MIXED_POSITIVE = ("por lo demás estoy contento", "en general está bien", "lo demás funciona bien")
MIXED_NEGATIVE = ("en general no estoy contento", "lo demás deja mucho que desear")

AND_CONNECTORS = (", y ", " y además ", ". Además, ")
BUT_CONNECTORS = (", pero ", ". Sin embargo, ", ", aunque ")

EMOJI: dict[int, tuple[str, ...]] = {
    0: ("😡", "😤", "👎"), 1: ("🙄", "😕"), 2: ("🤷", "😐"), 3: ("🙂", "👍"), 4: ("😍", "👏", "🙌"),
}

SLOTS: dict[str, tuple[str, ...]] = {
    "month": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
              "octubre", "noviembre", "diciembre"),
    "weekday": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "device": ("iPhone", "móvil Android", "tele Samsung", "iPad", "portátil", "Fire Stick"),
    "hour": ("20:00", "21:00", "22:00"),
    "name": ("Lucía", "Javier", "Marta", "el agente"),
}

SUBJECTS: dict[str, tuple[str, ...]] = {
    "billing": ("Error en la factura", "Cobro duplicado", "Reembolso pendiente"),
    "pricing": ("Subida de precio", "Consulta sobre el precio"),
    "app": ("La app se cuelga", "Problema con la app de TV"),
    "connectivity": ("Sin internet", "Cortes de conexión", "Caída del servicio"),
    "installation": ("El técnico no vino", "Retraso en la entrega del router"),
    "login": ("No llega el código", "No puedo iniciar sesión"),
    "checkout": ("Error en el pago online", "No puedo completar el alta"),
    "account": ("Cambiar mis datos", "Cambio de correo electrónico"),
    "plan_change": ("Cambio de tarifa", "Quiero pasarme a {plan}"),
    "moving": ("Mudanza", "Traslado del servicio"),
    "cancellation": ("Baja del servicio", "Quiero darme de baja"),
    "general_question": ("Consulta", "Pregunta sobre mi contrato"),
}

TOPIC_CLAUSES: dict[str, tuple[str, ...]] = {
    "account": ("necesito cambiar mi [correo electrónico|número de teléfono|cuenta bancaria]",),
    "plan_change": ("quiero cambiarme a {plan} [el mes que viene|cuanto antes]",),
    "moving": ("me mudo [el mes que viene|en {weeks} semanas] y quiero trasladar el servicio",),
    "general_question": ("quisiera saber qué canales incluye el paquete de TV",
                         "quisiera saber cuándo termina mi contrato"),
}

CANCEL_LEADS = ("quiero darme de baja", "por favor, den de baja mi contrato")
CANCEL_REASONS = ("me mudo al extranjero", "he encontrado una oferta mejor", "no lo uso lo suficiente")
BECAUSE = (" porque ", ". El motivo: ")

GREETINGS = ("Hola,", "Buenos días,", "")
REQUESTS = ("¿Pueden revisarlo, por favor?", "Necesito una solución urgente.", "Llámenme, por favor.",
            "Gracias de antemano.")
SIGNOFFS = ("Gracias", "Saludos", "Un saludo", "")
SUBJECT_PREFIXES = ("URGENTE: ", "")
