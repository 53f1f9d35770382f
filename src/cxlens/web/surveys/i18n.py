"""Languages of the hosted pages and the widget: which language a respondent sees, the question
texts in it, writing direction, and the page's own words (buttons, thanks, problems).

A survey is written in its default language (``Survey.language``); a version may carry
translations of its questions (``SurveyVersion.translations``, see :func:`validate_translations`).
The page language is picked among those languages from ``?lang=``, a personal link or the
browser's ``Accept-Language`` (:func:`pick`), falling back to the default. The page's own words
come from :data:`UI` (shipped with the code; no runtime download), English when a language is
missing there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cxlens.errors import CxlensInputError

TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}$")
RTL = frozenset({"ar", "he", "fa", "ur"})
MAX_LANGUAGES = 30
TITLE = "@title"  # the survey title's translation sits beside the questions' under this key

UI: dict[str, dict[str, str]] = {
    "en": {
        "next": "Next", "back": "Back", "submit": "Submit", "page_of": "Page {step} of up to {steps}",
        "check_one": "Please check 1 answer:", "check_many": "Please check {n} answers:", "required": "(required)",
        "thanks_title": "Thank you!", "thanks": "Your answers have been recorded. Thank you for your time.",
        "already": "You have already answered this survey. Thank you!",
        "not_found_title": "Survey not found", "not_found": "There is no survey at this address.",
        "not_open": "This survey is not open yet.", "closed": "This survey is closed. Thank you for your interest.",
        "ended": "This survey has ended. Thank you for your interest.", "opens_on": "This survey opens on {date}.",
        "link_tampered": "This survey link is not valid. Please use the link exactly as you received it.",
        "link_wrong_survey": "This link belongs to another survey.",
        "link_expired": "This survey link expired on {date}. Thank you for your interest.",
        "err_required": "Please answer this question.", "err_range": "Pick a whole number from {low} to {high}.",
        "err_option": "{value} is not one of the options; pick from the list.",
        "err_long": "Please keep your answer under {max} characters (it has {n}).",
        "too_many": "Too many answers were sent from here in a short time. Please try again in {seconds} seconds.",
        "unavailable": "Your answers could not be stored just now. Please try again in a minute.",
        "yes": "Yes", "no": "No",
        "nps_low": "Not at all likely", "nps_high": "Extremely likely",
        "csat_low": "Very dissatisfied", "csat_high": "Very satisfied",
        "ces_low": "Very difficult", "ces_high": "Very easy", "rating_low": "Poor", "rating_high": "Excellent",
        "honeypot": "Leave this field empty", "optional": "(optional)", "close": "Close", "send": "Send",
        "comment": "Anything you would like to add? (optional)", "widget_thanks": "Thank you for your feedback!",
        "widget_error": "Sorry, your answer could not be sent. Please try again later.",
        # e-mails to customers: survey invitations, the unsubscribe page, case acknowledgements
        "mail_subject": "{title}: we would like your opinion", "mail_hello": "Hello,",
        "mail_intro": "we would like to hear from you: \"{title}\" takes about a minute.",
        "mail_scale": "0 = {low}, 10 = {high}", "mail_score": "{n} out of 10",
        "mail_open": "Open the survey", "mail_or_open": "Or open the survey", "mail_colon": ": ",
        "mail_expiry": "This link is personal and works until {date}.",
        "mail_footer": "You receive this e-mail because you are a customer of {project}.",
        "unsubscribe": "Unsubscribe", "mail_unsubscribe_note": "(no more survey invitations)",
        "unsub_ask": "Stop receiving survey invitations from {project}?", "unsub_done_title": "You are unsubscribed",
        "unsub_done": "You will receive no more survey invitations from {project}.",
        "unsub_tampered": "This unsubscribe link is not valid. Please use the link exactly as you received it, or "
                          "reply to the e-mail to be removed.",
        "unsub_expired": "This unsubscribe link expired on {date}. Please use the link in a more recent e-mail, or "
                         "reply to it to be removed.",
        "ack_subject": "We are looking into your feedback ({case})",
        "ack_body": "thank you for your feedback. We are sorry about your experience and have opened case {case} "
                    "for it; a member of our team will look into it and get back to you.",
        "ack_regards": "Kind regards,",
    },
    "de": {
        "next": "Weiter", "back": "Zurück", "submit": "Absenden", "page_of": "Seite {step} von höchstens {steps}",
        "check_one": "Bitte prüfen Sie 1 Antwort:", "check_many": "Bitte prüfen Sie {n} Antworten:",
        "required": "(Pflichtfeld)", "thanks_title": "Vielen Dank!",
        "thanks": "Ihre Antworten wurden gespeichert. Vielen Dank für Ihre Zeit.",
        "already": "Sie haben diese Umfrage bereits beantwortet. Vielen Dank!",
        "not_found_title": "Umfrage nicht gefunden", "not_found": "Unter dieser Adresse gibt es keine Umfrage.",
        "not_open": "Diese Umfrage ist noch nicht geöffnet.",
        "closed": "Diese Umfrage ist geschlossen. Vielen Dank für Ihr Interesse.",
        "ended": "Diese Umfrage ist beendet. Vielen Dank für Ihr Interesse.",
        "opens_on": "Diese Umfrage beginnt am {date}.",
        "link_tampered": "Dieser Umfragelink ist ungültig. Bitte verwenden Sie den Link genau so, wie Sie ihn "
                         "erhalten haben.",
        "link_wrong_survey": "Dieser Link gehört zu einer anderen Umfrage.",
        "link_expired": "Dieser Umfragelink ist am {date} abgelaufen. Vielen Dank für Ihr Interesse.",
        "err_required": "Bitte beantworten Sie diese Frage.",
        "err_range": "Wählen Sie eine ganze Zahl von {low} bis {high}.",
        "err_option": "{value} ist keine der Antwortmöglichkeiten; bitte wählen Sie aus der Liste.",
        "err_long": "Bitte antworten Sie in weniger als {max} Zeichen (Ihre Antwort hat {n}).",
        "too_many": "Von hier wurden in kurzer Zeit zu viele Antworten gesendet. Bitte versuchen Sie es in "
                    "{seconds} Sekunden erneut.",
        "unavailable": "Ihre Antworten konnten gerade nicht gespeichert werden. Bitte versuchen Sie es in einer "
                       "Minute erneut.",
        "yes": "Ja", "no": "Nein",
        "nps_low": "Sehr unwahrscheinlich", "nps_high": "Sehr wahrscheinlich",
        "csat_low": "Sehr unzufrieden", "csat_high": "Sehr zufrieden",
        "ces_low": "Sehr schwierig", "ces_high": "Sehr einfach", "rating_low": "Schlecht",
        "rating_high": "Ausgezeichnet",
        "honeypot": "Dieses Feld bitte leer lassen", "optional": "(optional)", "close": "Schließen", "send": "Senden",
        "comment": "Möchten Sie noch etwas ergänzen? (optional)", "widget_thanks": "Vielen Dank für Ihr Feedback!",
        "widget_error": "Ihre Antwort konnte leider nicht gesendet werden. Bitte versuchen Sie es später erneut.",
        "mail_subject": "{title}: Ihre Meinung ist uns wichtig", "mail_hello": "Guten Tag,",
        "mail_intro": "wir möchten gern Ihre Meinung hören: „{title}“ dauert etwa eine Minute.",
        "mail_scale": "0 = {low}, 10 = {high}", "mail_score": "{n} von 10",
        "mail_open": "Umfrage öffnen", "mail_or_open": "Oder die Umfrage öffnen", "mail_colon": ": ",
        "mail_expiry": "Dieser Link ist persönlich und gilt bis {date}.",
        "mail_footer": "Sie erhalten diese E-Mail als Kundin oder Kunde von {project}.",
        "unsubscribe": "Abmelden", "mail_unsubscribe_note": "(keine Umfrageeinladungen mehr)",
        "unsub_ask": "Keine Umfrageeinladungen mehr von {project} erhalten?", "unsub_done_title": "Sie sind abgemeldet",
        "unsub_done": "Sie erhalten keine Umfrageeinladungen mehr von {project}.",
        "unsub_tampered": "Dieser Abmeldelink ist ungültig. Bitte verwenden Sie den Link genau so, wie Sie ihn "
                          "erhalten haben, oder antworten Sie auf die E-Mail, um sich abzumelden.",
        "unsub_expired": "Dieser Abmeldelink ist am {date} abgelaufen. Bitte verwenden Sie den Link aus einer "
                         "neueren E-Mail oder antworten Sie darauf, um sich abzumelden.",
        "ack_subject": "Wir kümmern uns um Ihr Feedback ({case})",
        "ack_body": "vielen Dank für Ihr Feedback. Es tut uns leid, dass Sie diese Erfahrung gemacht haben. Wir haben "
                    "dazu den Vorgang {case} angelegt; jemand aus unserem Team kümmert sich darum und meldet sich "
                    "bei Ihnen.",
        "ack_regards": "Mit freundlichen Grüßen",
    },
    "fr": {
        "next": "Suivant", "back": "Retour", "submit": "Envoyer", "page_of": "Page {step} sur {steps} au plus",
        "check_one": "Veuillez vérifier 1 réponse :", "check_many": "Veuillez vérifier {n} réponses :",
        "required": "(obligatoire)", "thanks_title": "Merci !",
        "thanks": "Vos réponses ont été enregistrées. Merci pour votre temps.",
        "already": "Vous avez déjà répondu à cette enquête. Merci !",
        "not_found_title": "Enquête introuvable", "not_found": "Il n’y a pas d’enquête à cette adresse.",
        "not_open": "Cette enquête n’est pas encore ouverte.",
        "closed": "Cette enquête est fermée. Merci de votre intérêt.",
        "ended": "Cette enquête est terminée. Merci de votre intérêt.",
        "opens_on": "Cette enquête ouvre le {date}.",
        "link_tampered": "Ce lien d’enquête n’est pas valide. Utilisez le lien exactement tel que vous l’avez reçu.",
        "link_wrong_survey": "Ce lien appartient à une autre enquête.",
        "link_expired": "Ce lien d’enquête a expiré le {date}. Merci de votre intérêt.",
        "err_required": "Veuillez répondre à cette question.",
        "err_range": "Choisissez un nombre entier de {low} à {high}.",
        "err_option": "{value} ne fait pas partie des choix ; choisissez dans la liste.",
        "err_long": "Veuillez répondre en moins de {max} caractères (votre réponse en a {n}).",
        "too_many": "Trop de réponses ont été envoyées d’ici en peu de temps. Réessayez dans {seconds} secondes.",
        "unavailable": "Vos réponses n’ont pas pu être enregistrées pour le moment. Réessayez dans une minute.",
        "yes": "Oui", "no": "Non",
        "nps_low": "Pas du tout probable", "nps_high": "Très probable",
        "csat_low": "Très insatisfait", "csat_high": "Très satisfait",
        "ces_low": "Très difficile", "ces_high": "Très facile", "rating_low": "Mauvais", "rating_high": "Excellent",
        "honeypot": "Laissez ce champ vide", "optional": "(facultatif)", "close": "Fermer", "send": "Envoyer",
        "comment": "Souhaitez-vous ajouter quelque chose ? (facultatif)",
        "widget_thanks": "Merci pour votre avis !",
        "widget_error": "Votre réponse n’a pas pu être envoyée. Veuillez réessayer plus tard.",
        "mail_subject": "{title} : votre avis nous intéresse", "mail_hello": "Bonjour,",
        "mail_intro": "nous aimerions avoir votre avis : « {title} » ne prend qu’une minute environ.",
        "mail_scale": "0 = {low}, 10 = {high}", "mail_score": "{n} sur 10",
        "mail_open": "Ouvrir l’enquête", "mail_or_open": "Ou ouvrez l’enquête", "mail_colon": " : ",
        "mail_expiry": "Ce lien est personnel et valable jusqu’au {date}.",
        "mail_footer": "Vous recevez cet e-mail en tant que client de {project}.",
        "unsubscribe": "Se désabonner", "mail_unsubscribe_note": "(plus aucune invitation à nos enquêtes)",
        "unsub_ask": "Ne plus recevoir d’invitations aux enquêtes de {project} ?",
        "unsub_done_title": "Désabonnement confirmé",
        "unsub_done": "Vous ne recevrez plus d’invitations aux enquêtes de {project}.",
        "unsub_tampered": "Ce lien de désabonnement n’est pas valide. Utilisez le lien exactement tel que vous "
                          "l’avez reçu, ou répondez à l’e-mail pour être retiré de la liste.",
        "unsub_expired": "Ce lien de désabonnement a expiré le {date}. Utilisez le lien d’un e-mail plus récent, ou "
                         "répondez-y pour être retiré de la liste.",
        "ack_subject": "Nous examinons votre avis ({case})",
        "ack_body": "merci pour votre avis. Nous sommes désolés de ce qui s’est passé et avons ouvert le dossier "
                    "{case} ; un membre de notre équipe va l’examiner et reviendra vers vous.",
        "ack_regards": "Cordialement,",
    },
    "es": {
        "next": "Siguiente", "back": "Atrás", "submit": "Enviar", "page_of": "Página {step} de {steps} como máximo",
        "check_one": "Revise 1 respuesta:", "check_many": "Revise {n} respuestas:", "required": "(obligatoria)",
        "thanks_title": "¡Gracias!", "thanks": "Sus respuestas se han registrado. Gracias por su tiempo.",
        "already": "Ya ha respondido a esta encuesta. ¡Gracias!",
        "not_found_title": "Encuesta no encontrada", "not_found": "No hay ninguna encuesta en esta dirección.",
        "not_open": "Esta encuesta aún no está abierta.",
        "closed": "Esta encuesta está cerrada. Gracias por su interés.",
        "ended": "Esta encuesta ha terminado. Gracias por su interés.",
        "opens_on": "Esta encuesta se abre el {date}.",
        "link_tampered": "Este enlace de encuesta no es válido. Use el enlace exactamente como lo recibió.",
        "link_wrong_survey": "Este enlace pertenece a otra encuesta.",
        "link_expired": "Este enlace de encuesta caducó el {date}. Gracias por su interés.",
        "err_required": "Responda a esta pregunta.", "err_range": "Elija un número entero del {low} al {high}.",
        "err_option": "{value} no es una de las opciones; elija de la lista.",
        "err_long": "Responda con menos de {max} caracteres (su respuesta tiene {n}).",
        "too_many": "Se enviaron demasiadas respuestas desde aquí en poco tiempo. Inténtelo de nuevo en "
                    "{seconds} segundos.",
        "unavailable": "No se pudieron guardar sus respuestas en este momento. Inténtelo de nuevo en un minuto.",
        "yes": "Sí", "no": "No",
        "nps_low": "Nada probable", "nps_high": "Muy probable",
        "csat_low": "Muy insatisfecho", "csat_high": "Muy satisfecho",
        "ces_low": "Muy difícil", "ces_high": "Muy fácil", "rating_low": "Malo", "rating_high": "Excelente",
        "honeypot": "Deje este campo vacío", "optional": "(opcional)", "close": "Cerrar", "send": "Enviar",
        "comment": "¿Algo más que quiera añadir? (opcional)", "widget_thanks": "¡Gracias por su opinión!",
        "widget_error": "No se pudo enviar su respuesta. Inténtelo de nuevo más tarde.",
        "mail_subject": "{title}: nos gustaría conocer su opinión", "mail_hello": "Hola:",
        "mail_intro": "Nos gustaría conocer su opinión: «{title}» le llevará alrededor de un minuto.",
        "mail_scale": "0 = {low}, 10 = {high}", "mail_score": "{n} de 10",
        "mail_open": "Abrir la encuesta", "mail_or_open": "O abra la encuesta", "mail_colon": ": ",
        "mail_expiry": "Este enlace es personal y es válido hasta el {date}.",
        "mail_footer": "Recibe este correo porque es cliente de {project}.",
        "unsubscribe": "Darse de baja", "mail_unsubscribe_note": "(no recibir más invitaciones a encuestas)",
        "unsub_ask": "¿Dejar de recibir invitaciones a encuestas de {project}?",
        "unsub_done_title": "Se ha dado de baja",
        "unsub_done": "Ya no recibirá invitaciones a encuestas de {project}.",
        "unsub_tampered": "Este enlace para darse de baja no es válido. Use el enlace exactamente como lo recibió o "
                          "responda al correo para que lo quitemos de la lista.",
        "unsub_expired": "Este enlace para darse de baja caducó el {date}. Use el enlace de un correo más reciente o "
                         "responda a él para que lo quitemos de la lista.",
        "ack_subject": "Estamos revisando su opinión ({case})",
        "ack_body": "Gracias por su opinión. Lamentamos lo ocurrido y hemos abierto el caso {case}; una persona de "
                    "nuestro equipo lo revisará y se pondrá en contacto con usted.",
        "ack_regards": "Atentamente,",
    },
    "ar": {
        "next": "التالي", "back": "السابق", "submit": "إرسال", "page_of": "الصفحة {step} من {steps} كحد أقصى",
        "check_one": "يرجى مراجعة إجابة واحدة:", "check_many": "يرجى مراجعة {n} إجابات:", "required": "(مطلوب)",
        "thanks_title": "شكرًا لك!", "thanks": "تم تسجيل إجاباتك. شكرًا لك على وقتك.",
        "already": "لقد أجبت على هذا الاستبيان من قبل. شكرًا لك!",
        "not_found_title": "الاستبيان غير موجود", "not_found": "لا يوجد استبيان على هذا العنوان.",
        "not_open": "هذا الاستبيان غير مفتوح بعد.", "closed": "هذا الاستبيان مغلق. شكرًا لاهتمامك.",
        "ended": "انتهى هذا الاستبيان. شكرًا لاهتمامك.", "opens_on": "يفتح هذا الاستبيان في {date}.",
        "link_tampered": "رابط الاستبيان هذا غير صالح. يرجى استخدام الرابط كما وصلك تمامًا.",
        "link_wrong_survey": "هذا الرابط يخص استبيانًا آخر.",
        "link_expired": "انتهت صلاحية رابط الاستبيان هذا في {date}. شكرًا لاهتمامك.",
        "err_required": "يرجى الإجابة عن هذا السؤال.", "err_range": "اختر عددًا صحيحًا من {low} إلى {high}.",
        "err_option": "{value} ليس من الخيارات المتاحة؛ اختر من القائمة.",
        "err_long": "يرجى أن تكون إجابتك أقل من {max} حرف (تحتوي على {n}).",
        "too_many": "أُرسل عدد كبير جدًا من الإجابات من هنا خلال وقت قصير. يرجى المحاولة مرة أخرى بعد {seconds} ثانية.",
        "unavailable": "تعذّر حفظ إجاباتك الآن. يرجى المحاولة مرة أخرى بعد دقيقة.",
        "yes": "نعم", "no": "لا",
        "nps_low": "غير مرجح على الإطلاق", "nps_high": "مرجح للغاية",
        "csat_low": "غير راضٍ إطلاقًا", "csat_high": "راضٍ جدًا",
        "ces_low": "صعب جدًا", "ces_high": "سهل جدًا", "rating_low": "ضعيف", "rating_high": "ممتاز",
        "honeypot": "اترك هذا الحقل فارغًا", "optional": "(اختياري)", "close": "إغلاق", "send": "إرسال",
        "comment": "هل تود إضافة شيء؟ (اختياري)", "widget_thanks": "شكرًا لك على ملاحظاتك!",
        "widget_error": "تعذّر إرسال إجابتك. يرجى المحاولة لاحقًا.",
        "mail_subject": "{title}: نود معرفة رأيك", "mail_hello": "مرحبًا،",
        "mail_intro": "نود معرفة رأيك: يستغرق «{title}» نحو دقيقة واحدة.",
        "mail_scale": "0 = {low}، 10 = {high}", "mail_score": "{n} من 10",
        "mail_open": "افتح الاستبيان", "mail_or_open": "أو افتح الاستبيان", "mail_colon": ": ",
        "mail_expiry": "هذا الرابط شخصي وصالح حتى {date}.",
        "mail_footer": "تصلك هذه الرسالة لأنك من عملاء {project}.",
        "unsubscribe": "إلغاء الاشتراك", "mail_unsubscribe_note": "(لن تصلك دعوات الاستبيانات بعد الآن)",
        "unsub_ask": "هل تريد التوقف عن تلقي دعوات الاستبيانات من {project}؟", "unsub_done_title": "تم إلغاء اشتراكك",
        "unsub_done": "لن تصلك بعد الآن دعوات استبيانات من {project}.",
        "unsub_tampered": "رابط إلغاء الاشتراك هذا غير صالح. يرجى استخدام الرابط كما وصلك تمامًا، أو الرد على "
                          "الرسالة لإزالتك من القائمة.",
        "unsub_expired": "انتهت صلاحية رابط إلغاء الاشتراك هذا في {date}. يرجى استخدام الرابط الموجود في رسالة "
                         "أحدث، أو الرد عليها لإزالتك من القائمة.",
        "ack_subject": "نحن نراجع ملاحظاتك ({case})",
        "ack_body": "شكرًا لك على ملاحظاتك. نأسف لما واجهته، وقد فتحنا الحالة {case} بخصوص ذلك؛ سيتابعها أحد "
                    "أعضاء فريقنا ويعود إليك.",
        "ack_regards": "مع أطيب التحيات،",
    },
    "it": {
        "next": "Avanti", "back": "Indietro", "submit": "Invia", "page_of": "Pagina {step} di {steps} al massimo",
        "check_one": "Controlli 1 risposta:", "check_many": "Controlli {n} risposte:", "required": "(obbligatoria)",
        "thanks_title": "Grazie!", "thanks": "Le sue risposte sono state registrate. Grazie per il suo tempo.",
        "already": "Ha già risposto a questo sondaggio. Grazie!",
        "not_found_title": "Sondaggio non trovato", "not_found": "A questo indirizzo non c’è nessun sondaggio.",
        "not_open": "Questo sondaggio non è ancora aperto.",
        "closed": "Questo sondaggio è chiuso. Grazie per il suo interesse.",
        "ended": "Questo sondaggio è terminato. Grazie per il suo interesse.",
        "opens_on": "Questo sondaggio si apre il {date}.",
        "link_tampered": "Questo link al sondaggio non è valido. Usi il link esattamente come lo ha ricevuto.",
        "link_wrong_survey": "Questo link appartiene a un altro sondaggio.",
        "link_expired": "Questo link al sondaggio è scaduto il {date}. Grazie per il suo interesse.",
        "err_required": "Risponda a questa domanda.", "err_range": "Scelga un numero intero da {low} a {high}.",
        "err_option": "{value} non è tra le opzioni; scelga dall’elenco.",
        "err_long": "Risponda con meno di {max} caratteri (la sua risposta ne ha {n}).",
        "too_many": "Da qui sono state inviate troppe risposte in poco tempo. Riprovi tra {seconds} secondi.",
        "unavailable": "Non è stato possibile salvare le sue risposte in questo momento. Riprovi tra un minuto.",
        "yes": "Sì", "no": "No",
        "nps_low": "Per niente probabile", "nps_high": "Estremamente probabile",
        "csat_low": "Molto insoddisfatto", "csat_high": "Molto soddisfatto",
        "ces_low": "Molto difficile", "ces_high": "Molto facile", "rating_low": "Scarso", "rating_high": "Eccellente",
        "honeypot": "Lasci vuoto questo campo", "optional": "(facoltativa)", "close": "Chiudi", "send": "Invia",
        "comment": "Vuole aggiungere qualcosa? (facoltativa)", "widget_thanks": "Grazie per il suo feedback!",
        "widget_error": "Non è stato possibile inviare la sua risposta. Riprovi più tardi.",
        "mail_subject": "{title}: ci interessa la sua opinione", "mail_hello": "Buongiorno,",
        "mail_intro": "vorremmo conoscere la sua opinione: “{title}” richiede circa un minuto.",
        "mail_scale": "0 = {low}, 10 = {high}", "mail_score": "{n} su 10",
        "mail_open": "Apra il sondaggio", "mail_or_open": "Oppure apra il sondaggio", "mail_colon": ": ",
        "mail_expiry": "Questo link è personale ed è valido fino al {date}.",
        "mail_footer": "Riceve questa e-mail perché è cliente di {project}.",
        "unsubscribe": "Annulla l’iscrizione", "mail_unsubscribe_note": "(nessun altro invito ai sondaggi)",
        "unsub_ask": "Non vuole più ricevere inviti ai sondaggi di {project}?",
        "unsub_done_title": "Iscrizione annullata",
        "unsub_done": "Non riceverà più inviti ai sondaggi di {project}.",
        "unsub_tampered": "Questo link per annullare l’iscrizione non è valido. Usi il link esattamente come lo ha "
                          "ricevuto, oppure risponda all’e-mail per chiedere la cancellazione.",
        "unsub_expired": "Questo link per annullare l’iscrizione è scaduto il {date}. Usi il link di un’e-mail più "
                         "recente, oppure risponda a quest’ultima per chiedere la cancellazione.",
        "ack_subject": "Stiamo esaminando il suo feedback ({case})",
        "ack_body": "grazie per il suo feedback. Ci dispiace per quanto accaduto e abbiamo aperto la pratica {case}; "
                    "un membro del nostro team se ne occuperà e la ricontatterà.",
        "ack_regards": "Cordiali saluti,",
    },
    "pt": {
        "next": "Avançar", "back": "Voltar", "submit": "Enviar", "page_of": "Página {step} de no máximo {steps}",
        "check_one": "Verifique 1 resposta:", "check_many": "Verifique {n} respostas:", "required": "(obrigatória)",
        "thanks_title": "Obrigado!", "thanks": "As suas respostas foram recebidas. Obrigado pelo seu tempo.",
        "already": "Já respondeu a este questionário. Obrigado!",
        "not_found_title": "Questionário não encontrado", "not_found": "Não existe nenhum questionário neste endereço.",
        "not_open": "Este questionário ainda não está aberto.",
        "closed": "Este questionário está fechado. Obrigado pelo seu interesse.",
        "ended": "Este questionário terminou. Obrigado pelo seu interesse.",
        "opens_on": "Este questionário abre em {date}.",
        "link_tampered": "Este link do questionário não é válido. Use o link exatamente como o recebeu.",
        "link_wrong_survey": "Este link pertence a outro questionário.",
        "link_expired": "Este link do questionário expirou em {date}. Obrigado pelo seu interesse.",
        "err_required": "Responda a esta pergunta.", "err_range": "Escolha um número inteiro de {low} a {high}.",
        "err_option": "{value} não é uma das opções; escolha uma da lista.",
        "err_long": "A sua resposta deve ter menos de {max} caracteres (tem {n}).",
        "too_many": "Foram enviadas muitas respostas a partir daqui em pouco tempo. Tente novamente daqui a "
                    "{seconds} segundos.",
        "unavailable": "Não foi possível guardar as suas respostas neste momento. Tente novamente daqui a um minuto.",
        "yes": "Sim", "no": "Não",
        "nps_low": "Nada provável", "nps_high": "Extremamente provável",
        "csat_low": "Muito insatisfeito", "csat_high": "Muito satisfeito",
        "ces_low": "Muito difícil", "ces_high": "Muito fácil", "rating_low": "Fraco", "rating_high": "Excelente",
        "honeypot": "Deixe este campo em branco", "optional": "(opcional)", "close": "Fechar", "send": "Enviar",
        "comment": "Gostaria de acrescentar algo? (opcional)", "widget_thanks": "Obrigado pela sua opinião!",
        "widget_error": "Não foi possível enviar a sua resposta. Tente novamente mais tarde.",
        "mail_subject": "{title}: gostaríamos de saber a sua opinião", "mail_hello": "Olá,",
        "mail_intro": "Gostaríamos de saber a sua opinião: “{title}” leva cerca de um minuto.",
        "mail_scale": "0 = {low}, 10 = {high}", "mail_score": "{n} de 10",
        "mail_open": "Abrir o questionário", "mail_or_open": "Ou abra o questionário", "mail_colon": ": ",
        "mail_expiry": "Este link é pessoal e é válido até {date}.",
        "mail_footer": "Recebeu este e-mail porque é cliente de {project}.",
        "unsubscribe": "Cancelar inscrição", "mail_unsubscribe_note": "(deixar de receber convites para questionários)",
        "unsub_ask": "Deixar de receber convites para questionários de {project}?",
        "unsub_done_title": "Inscrição cancelada",
        "unsub_done": "Deixará de receber convites para questionários de {project}.",
        "unsub_tampered": "Este link para cancelar a inscrição não é válido. Use o link exatamente como o recebeu "
                          "ou responda ao e-mail para pedir a remoção da lista.",
        "unsub_expired": "Este link para cancelar a inscrição expirou em {date}. Use o link de um e-mail mais "
                         "recente ou responda a esse e-mail para pedir a remoção da lista.",
        "ack_subject": "Vamos analisar a sua opinião ({case})",
        "ack_body": "Obrigado pela sua opinião. Lamentamos o que aconteceu e abrimos o caso {case}; vamos "
                    "analisá-lo e dar-lhe uma resposta em breve.",
        "ack_regards": "Atenciosamente,",
    },
    "nl": {
        "next": "Volgende", "back": "Vorige", "submit": "Verzenden", "page_of": "Pagina {step} van maximaal {steps}",
        "check_one": "Controleer 1 antwoord:", "check_many": "Controleer {n} antwoorden:", "required": "(verplicht)",
        "thanks_title": "Hartelijk dank!", "thanks": "Uw antwoorden zijn opgeslagen. Bedankt voor uw tijd.",
        "already": "U heeft deze enquête al ingevuld. Hartelijk dank!",
        "not_found_title": "Enquête niet gevonden", "not_found": "Op dit adres staat geen enquête.",
        "not_open": "Deze enquête is nog niet geopend.",
        "closed": "Deze enquête is gesloten. Bedankt voor uw interesse.",
        "ended": "Deze enquête is afgelopen. Bedankt voor uw interesse.",
        "opens_on": "Deze enquête opent op {date}.",
        "link_tampered": "Deze enquêtelink is niet geldig. Gebruik de link precies zoals u die heeft ontvangen.",
        "link_wrong_survey": "Deze link hoort bij een andere enquête.",
        "link_expired": "Deze enquêtelink is op {date} verlopen. Bedankt voor uw interesse.",
        "err_required": "Beantwoord deze vraag alstublieft.",
        "err_range": "Kies een geheel getal van {low} tot en met {high}.",
        "err_option": "{value} is geen van de antwoordmogelijkheden; kies uit de lijst.",
        "err_long": "Houd uw antwoord korter dan {max} tekens (het heeft er nu {n}).",
        "too_many": "Vanaf hier zijn in korte tijd te veel antwoorden verzonden. Probeer het over {seconds} seconden "
                    "opnieuw.",
        "unavailable": "Uw antwoorden konden op dit moment niet worden opgeslagen. Probeer het over een minuut "
                       "opnieuw.",
        "yes": "Ja", "no": "Nee",
        "nps_low": "Zeer onwaarschijnlijk", "nps_high": "Zeer waarschijnlijk",
        "csat_low": "Zeer ontevreden", "csat_high": "Zeer tevreden",
        "ces_low": "Zeer moeilijk", "ces_high": "Zeer makkelijk", "rating_low": "Slecht", "rating_high": "Uitstekend",
        "honeypot": "Laat dit veld leeg", "optional": "(optioneel)", "close": "Sluiten", "send": "Verzenden",
        "comment": "Wilt u nog iets toevoegen? (optioneel)", "widget_thanks": "Bedankt voor uw feedback!",
        "widget_error": "Uw antwoord kon helaas niet worden verzonden. Probeer het later opnieuw.",
        "mail_subject": "{title}: wij horen graag uw mening", "mail_hello": "Beste klant,",
        "mail_intro": "Wij horen graag uw mening: “{title}” kost ongeveer een minuut.",
        "mail_scale": "0 = {low}, 10 = {high}", "mail_score": "{n} van 10",
        "mail_open": "Open de enquête", "mail_or_open": "Of open de enquête", "mail_colon": ": ",
        "mail_expiry": "Deze link is persoonlijk en geldig tot {date}.",
        "mail_footer": "U ontvangt deze e-mail omdat u klant bent van {project}.",
        "unsubscribe": "Afmelden", "mail_unsubscribe_note": "(geen enquête-uitnodigingen meer)",
        "unsub_ask": "Geen enquête-uitnodigingen meer ontvangen van {project}?", "unsub_done_title": "U bent afgemeld",
        "unsub_done": "U ontvangt geen enquête-uitnodigingen meer van {project}.",
        "unsub_tampered": "Deze afmeldlink is niet geldig. Gebruik de link precies zoals u die heeft ontvangen, of "
                          "beantwoord de e-mail om u af te melden.",
        "unsub_expired": "Deze afmeldlink is op {date} verlopen. Gebruik de link uit een recentere e-mail, of "
                         "beantwoord die e-mail om u af te melden.",
        "ack_subject": "Wij bekijken uw feedback ({case})",
        "ack_body": "Hartelijk dank voor uw feedback. Het spijt ons dat u deze ervaring heeft gehad. We hebben "
                    "hiervoor melding {case} aangemaakt; een van onze medewerkers bekijkt deze en neemt contact met "
                    "u op.",
        "ack_regards": "Met vriendelijke groet,",
    },
    "he": {
        "next": "הבא", "back": "הקודם", "submit": "שליחה", "page_of": "עמוד {step} מתוך {steps} לכל היותר",
        "check_one": "נא לבדוק תשובה אחת:", "check_many": "נא לבדוק {n} תשובות:", "required": "(חובה)",
        "thanks_title": "תודה רבה!", "thanks": "התשובות שלך נשמרו. תודה על הזמן שהקדשת.",
        "already": "כבר ענית על הסקר הזה. תודה רבה!",
        "not_found_title": "הסקר לא נמצא", "not_found": "אין סקר בכתובת הזו.",
        "not_open": "הסקר הזה עדיין לא נפתח.", "closed": "הסקר הזה סגור. תודה על ההתעניינות.",
        "ended": "הסקר הזה הסתיים. תודה על ההתעניינות.", "opens_on": "הסקר הזה ייפתח ב-{date}.",
        "link_tampered": "הקישור לסקר אינו תקין. נא להשתמש בקישור בדיוק כפי שהתקבל.",
        "link_wrong_survey": "הקישור הזה שייך לסקר אחר.",
        "link_expired": "תוקף הקישור לסקר פג ב-{date}. תודה על ההתעניינות.",
        "err_required": "נא לענות על השאלה הזו.", "err_range": "נא לבחור מספר שלם בין {low} ל-{high}.",
        "err_option": "הערך {value} אינו אחת מהאפשרויות; נא לבחור מהרשימה.",
        "err_long": "נא לקצר את התשובה לפחות מ-{max} תווים (כרגע יש בה {n}).",
        "too_many": "נשלחו מכאן יותר מדי תשובות בזמן קצר. נא לנסות שוב בעוד {seconds} שניות.",
        "unavailable": "לא ניתן היה לשמור את התשובות כרגע. נא לנסות שוב בעוד דקה.",
        "yes": "כן", "no": "לא",
        "nps_low": "בכלל לא סביר", "nps_high": "סביר מאוד",
        "csat_low": "מאוד לא מרוצה", "csat_high": "מרוצה מאוד",
        "ces_low": "קשה מאוד", "ces_high": "קל מאוד", "rating_low": "גרוע", "rating_high": "מצוין",
        "honeypot": "יש להשאיר שדה זה ריק", "optional": "(לא חובה)", "close": "סגירה", "send": "שליחה",
        "comment": "יש משהו נוסף שברצונך להוסיף? (לא חובה)", "widget_thanks": "תודה על המשוב!",
        "widget_error": "לא ניתן היה לשלוח את התשובה. נא לנסות שוב מאוחר יותר.",
        "mail_subject": "{title}: נשמח לשמוע את דעתך", "mail_hello": "שלום,",
        "mail_intro": "נשמח לשמוע את דעתך: מילוי \"{title}\" נמשך כדקה.",
        "mail_scale": "0 = {low}, 10 = {high}", "mail_score": "{n} מתוך 10",
        "mail_open": "לפתיחת הסקר", "mail_or_open": "או לפתיחת הסקר", "mail_colon": ": ",
        "mail_expiry": "הקישור הזה אישי ותקף עד {date}.",
        "mail_footer": "הודעה זו נשלחת ללקוחות של {project}.",
        "unsubscribe": "הסרה מהרשימה", "mail_unsubscribe_note": "(ללא הזמנות נוספות לסקרים)",
        "unsub_ask": "להפסיק לקבל הזמנות לסקרים מ-{project}?", "unsub_done_title": "הוסרת מהרשימה",
        "unsub_done": "לא יישלחו אליך עוד הזמנות לסקרים מ-{project}.",
        "unsub_tampered": "קישור ההסרה הזה אינו תקין. נא להשתמש בקישור בדיוק כפי שהתקבל, או להשיב להודעה כדי "
                          "להסיר את כתובתך מהרשימה.",
        "unsub_expired": "תוקף קישור ההסרה הזה פג ב-{date}. נא להשתמש בקישור מהודעה עדכנית יותר, או להשיב לה כדי "
                         "להסיר את כתובתך מהרשימה.",
        "ack_subject": "אנחנו בודקים את המשוב שלך ({case})",
        "ack_body": "תודה על המשוב. אנו מצטערים על החוויה שלך ופתחנו בעקבותיה את הפנייה {case}; נציג מהצוות שלנו "
                    "יבדוק אותה ויחזור אליך.",
        "ack_regards": "בברכה,",
    },
}


def primary(tag: str) -> str:
    return tag.split("-", 1)[0].lower()


def direction(tag: str) -> str:
    """``rtl`` for Arabic, Hebrew, Persian and Urdu, else ``ltr``."""
    return "rtl" if primary(tag) in RTL else "ltr"


def text(lang: str, key: str, **params: Any) -> str:
    """The page's word ``key`` in ``lang`` (English when the language or the word is missing)."""
    table = UI.get(primary(lang), UI["en"])
    template = table.get(key) or UI["en"][key]
    return template.format(**params) if params else template


def words(lang: str) -> dict[str, str]:
    """Every word of the page in ``lang`` (for templates and the widget)."""
    table = UI.get(primary(lang), {})
    return {key: table.get(key, value) for key, value in UI["en"].items()}


def accept_language(header: str | None) -> list[str]:
    """Language tags of an ``Accept-Language`` header, most wanted first (``*`` and q=0 left out)."""
    found: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if TAG.match(tag.strip()) and quality > 0:
            found.append((-quality, position, tag.strip()))
    return [tag for _, _, tag in sorted(found)]


def pick(available: Sequence[str], wanted: Iterable[str | None]) -> str | None:
    """The first of ``wanted`` the survey has (exact tag first, then the same primary language)."""
    by_tag = {t.lower(): t for t in available}
    by_primary: dict[str, str] = {}
    for t in available:
        by_primary.setdefault(primary(t), t)
    for tag in wanted:
        if not tag:
            continue
        exact = by_tag.get(tag.lower())
        if exact is not None:
            return exact
        near = by_primary.get(primary(tag))
        if near is not None:
            return near
    return None


def languages(default: str, translations: Mapping[str, Any]) -> list[str]:
    """The languages a survey version can be answered in, its default first."""
    return [default, *sorted(t for t in translations if t.lower() != default.lower())]


# ---------------------------------------------------------------------------------- translations


def validate_translations(questions: Sequence[Mapping[str, Any]],
                          translations: Mapping[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Check translations against a version's questions and return them normalised.

    ``{"ar": {"q1": {"text": "...", "options": ["...", ...]}}}``: a language tag (BCP 47), then per
    question id its text and, for choice questions, one label per option in the same order (the
    stored answer stays the option of the default language). Empty texts are dropped (the
    default text is shown); translations of questions that no longer exist are dropped.
    """
    from cxlens.web.surveys.logic import CHOICE, MAX_QUESTION_TEXT

    if len(translations) > MAX_LANGUAGES:
        raise CxlensInputError(f"A survey can have at most {MAX_LANGUAGES} translations. Got {len(translations)}.")
    by_id = {q["id"]: q for q in questions}
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for lang, texts in translations.items():
        if not isinstance(lang, str) or not TAG.match(lang):
            raise CxlensInputError(f"A translation's language must be a language tag such as de, ar or pt-BR. "
                                   f"Got {lang!r} instead.")
        kept: dict[str, dict[str, Any]] = {}
        for qid, entry in dict(texts or {}).items():
            if qid == TITLE and isinstance(entry, Mapping) and str(entry.get("text") or "").strip():
                kept[qid] = {"text": str(entry["text"]).strip()[:200]}
                continue
            question = by_id.get(qid)
            if question is None or not isinstance(entry, Mapping):
                continue
            item: dict[str, Any] = {}
            body = str(entry.get("text") or "").strip()
            if len(body) > MAX_QUESTION_TEXT:
                raise CxlensInputError(f"Translation {lang}, question {qid}: the text must have at most "
                                       f"{MAX_QUESTION_TEXT} characters. Got {len(body)}.")
            if body:
                item["text"] = body
            labels = [str(o).strip() for o in entry.get("options") or [] if str(o).strip()]
            if labels and question["type"] in CHOICE:
                wanted = len(question.get("options") or [])
                if len(labels) != wanted:
                    raise CxlensInputError(f"Translation {lang}, question {qid}: give one label per option, "
                                           f"{wanted} in the same order. Got {len(labels)}.")
                item["options"] = labels
            if item:
                kept[qid] = item
        out[lang] = kept
    return out


def localized(question: Mapping[str, Any], translations: Mapping[str, Any], lang: str) -> tuple[str, list[str]]:
    """The text of ``question`` and the labels of its options in ``lang`` (default text when missing)."""
    entry = (translations.get(lang) or {}).get(question["id"]) or {}
    options = list(question.get("options") or [])
    labels = entry.get("options") if len(entry.get("options") or []) == len(options) else None
    return str(entry.get("text") or question["text"]), list(labels or options)


def title(default: str, translations: Mapping[str, Any], lang: str) -> str:
    return str(((translations.get(lang) or {}).get(TITLE) or {}).get("text") or default)
