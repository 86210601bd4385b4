package main

import "github.com/sportello/sportello/plugins/sdk"

var msg = sdk.Messages{
	"status.open":            {"it": "Aperta", "de": "Offen", "en": "Open"},
	"status.in_progress":     {"it": "In lavorazione", "de": "In Bearbeitung", "en": "In progress"},
	"status.waiting_citizen": {"it": "In attesa di una risposta del cittadino", "de": "Wartet auf Antwort der meldenden Person", "en": "Waiting for the citizen"},
	"status.resolved":        {"it": "Risolta", "de": "Erledigt", "en": "Resolved"},
	"status.closed":          {"it": "Chiusa", "de": "Abgeschlossen", "en": "Closed"},
	"status.reopened":        {"it": "Riaperta", "de": "Wieder eröffnet", "en": "Reopened"},
	"status.submitted":       {"it": "Ricevuta", "de": "Eingegangen", "en": "Received"},
	"or":                     {"it": "o", "de": "oder", "en": "or"},

	// Reporting.
	"not_configured": {
		"it": "Le segnalazioni online non sono ancora attive: per ora rivolgiti all'Ufficio Relazioni con il Pubblico del Comune.",
		"de": "Online-Meldungen sind noch nicht möglich: Wenden Sie sich vorerst an das Bürgerbüro der Gemeinde.",
		"en": "Online reports are not available yet: for now, please contact the town's public relations office.",
	},
	"login": {
		"it": "Per inviare una segnalazione accedi con SPID o CIE: questo Comune non accetta segnalazioni senza accesso.",
		"de": "Melden Sie sich mit SPID oder CIE an, um eine Meldung zu senden: Diese Gemeinde nimmt keine Meldungen ohne Anmeldung an.",
		"en": "Log in with SPID or CIE to send a report: this town does not take reports without logging in.",
	},
	"unknown_category": {
		"it": "Scegli uno degli argomenti dell'elenco.",
		"de": "Wählen Sie eines der Themen aus der Liste.",
		"en": "Choose one of the topics in the list.",
	},
	"turn_to": {
		"it": "Il Comune non si occupa di «%s»: rivolgiti a %s. La segnalazione non è stata inviata.",
		"de": "Die Gemeinde ist für «%s» nicht zuständig: Wenden Sie sich an %s. Die Meldung wurde nicht gesendet.",
		"en": "The town does not deal with “%s”: please turn to %s. The report has not been sent.",
	},
	"not_handled": {
		"it": "Il Comune non tratta online le segnalazioni su «%s»: rivolgiti all'Ufficio Relazioni con il Pubblico. La segnalazione non è stata inviata.",
		"de": "Die Gemeinde nimmt Meldungen zu «%s» nicht online entgegen: Wenden Sie sich an das Bürgerbüro. Die Meldung wurde nicht gesendet.",
		"en": "The town does not take reports about “%s” online: please contact the public relations office. The report has not been sent.",
	},
	"where": {
		"it": "Indica dove si trova il problema: scegli il punto sulla mappa o scrivi l'indirizzo.",
		"de": "Geben Sie an, wo sich das Problem befindet: Wählen Sie den Punkt auf der Karte oder geben Sie die Adresse an.",
		"en": "Say where the problem is: pick the spot on the map or write the address.",
	},
	"lat_lon": {
		"it": "Di un punto servono sia la latitudine sia la longitudine.",
		"de": "Für einen Punkt braucht es Breiten- und Längengrad.",
		"en": "A point needs both its latitude and its longitude.",
	},
	"outside": {
		"it": "Il punto scelto è fuori dal territorio del Comune: spostalo sul luogo del problema, all'interno del Comune.",
		"de": "Der gewählte Punkt liegt außerhalb des Gemeindegebiets: Verschieben Sie ihn an den Ort des Problems in der Gemeinde.",
		"en": "The spot you picked is outside the town: move it to where the problem is, inside the town.",
	},
	"contact_name": {
		"it": "Scrivi il tuo nome e cognome, per poterti rispondere.",
		"de": "Geben Sie Ihren Vor- und Nachnamen an, damit wir Ihnen antworten können.",
		"en": "Write your full name, so that we can answer you.",
	},
	"contact_how": {
		"it": "Lascia un indirizzo e-mail o un numero di telefono, per poterti rispondere.",
		"de": "Geben Sie eine E-Mail-Adresse oder eine Telefonnummer an, damit wir Ihnen antworten können.",
		"en": "Leave an e-mail address or a phone number, so that we can answer you.",
	},
	"title": {"it": "%s: %s", "de": "%s: %s", "en": "%s: %s"},
	"due_at": {
		"it": "le %s del %s",
		"de": "bis %s Uhr am %s",
		"en": "by %s on %s",
	},
	"received_problem": {
		"it": "Abbiamo ricevuto la tua segnalazione, pratica n. %s. L'ufficio competente ti risponde entro %s.",
		"de": "Wir haben Ihre Meldung erhalten, Vorgang Nr. %s. Das zuständige Amt antwortet Ihnen %s.",
		"en": "We have received your report, case no. %s. The office in charge will answer you %s.",
	},
	"received_request": {
		"it": "Abbiamo ricevuto la tua richiesta, pratica n. %s. L'ufficio competente ti risponde entro %s.",
		"de": "Wir haben Ihre Anfrage erhalten, Vorgang Nr. %s. Das zuständige Amt antwortet Ihnen %s.",
		"en": "We have received your question, case no. %s. The office in charge will answer you %s.",
	},
	"received_staff": {
		"it": "Pratica n. %s aperta per conto di chi l'ha chiesta; va risolta entro %s.",
		"de": "Vorgang Nr. %s für die anfragende Person eröffnet; zu erledigen %s.",
		"en": "Case no. %s opened on behalf of the person asking; to be resolved %s.",
	},
	"follow_account": {
		"it": "Puoi seguirla nella tua area personale.",
		"de": "Sie können ihn in Ihrem persönlichen Bereich verfolgen.",
		"en": "You can follow it in your personal area.",
	},
	"follow_contact": {
		"it": "Ti scriviamo ai recapiti che hai lasciato: conserva il numero della pratica.",
		"de": "Wir melden uns über die angegebene Kontaktmöglichkeit: Bewahren Sie die Vorgangsnummer auf.",
		"en": "We will write to the contact you left: keep the case number.",
	},
	"suggestions": {
		"it": "Intanto, forse ti è utile:",
		"de": "Vielleicht hilft Ihnen schon das:",
		"en": "Meanwhile, this may help:",
	},
	"see": {"it": "Vedi %s", "de": "Siehe %s", "en": "See %s"},
	"mail_subject": {
		"it": "%s, pratica n. %s",
		"de": "%s, Vorgang Nr. %s",
		"en": "%s, case no. %s",
	},
	"services_handled": {
		"it": "Il Comune tratta le segnalazioni su: %s.",
		"de": "Die Gemeinde behandelt Meldungen zu: %s.",
		"en": "The town handles reports about: %s.",
	},
	"services_elsewhere": {
		"it": "Per «%s» rivolgiti a %s.",
		"de": "Für «%s» wenden Sie sich an %s.",
		"en": "For “%s” please turn to %s.",
	},
	"services_none": {
		"it": "Il Comune non ha ancora indicato gli argomenti che tratta online.",
		"de": "Die Gemeinde hat noch nicht angegeben, welche Themen sie online behandelt.",
		"en": "The town has not yet said which topics it handles online.",
	},

	// The steps of a ticket.
	"staff_only": {
		"it": "Questa operazione è riservata agli uffici del Comune.",
		"de": "Dieser Schritt ist der Gemeindeverwaltung vorbehalten.",
		"en": "Only the town's offices can do this.",
	},
	"citizen_only": {
		"it": "Solo chi ha inviato la segnalazione può farlo, dalla propria area personale.",
		"de": "Das kann nur die Person, die die Meldung gesendet hat, in ihrem persönlichen Bereich.",
		"en": "Only the person who sent the report can do this, from their personal area.",
	},
	"wrong_status": {
		"it": "La pratica %s è nello stato «%s»: questa operazione si può fare solo quando è %s.",
		"de": "Der Vorgang %s ist im Status «%s»: Dieser Schritt ist nur möglich, wenn er %s ist.",
		"en": "Case %s is “%s”: this can only be done when it is %s.",
	},
	"taken":    {"it": "Pratica %s presa in carico.", "de": "Vorgang %s übernommen.", "en": "Case %s taken in hand."},
	"asked":    {"it": "Domanda inviata: la pratica %s attende la risposta del cittadino.", "de": "Rückfrage gesendet: Vorgang %s wartet auf die Antwort der meldenden Person.", "en": "Question sent: case %s is waiting for the citizen's answer."},
	"resolved": {"it": "Pratica %s risolta; la risposta è stata inviata.", "de": "Vorgang %s erledigt; die Antwort wurde gesendet.", "en": "Case %s resolved; the answer has been sent."},
	"closed":   {"it": "Pratica %s chiusa.", "de": "Vorgang %s abgeschlossen.", "en": "Case %s closed."},
	"reopened": {"it": "Pratica %s riaperta.", "de": "Vorgang %s wieder eröffnet.", "en": "Case %s reopened."},

	"note_taken":    {"it": "Presa in carico.", "de": "Übernommen.", "en": "Taken in hand."},
	"note_asked":    {"it": "Chiesti chiarimenti: %s", "de": "Rückfrage: %s", "en": "Asked the citizen: %s"},
	"note_resolved": {"it": "Risolta, con risposta al cittadino.", "de": "Erledigt, mit Antwort an die meldende Person.", "en": "Resolved, with an answer to the citizen."},
	"note_closed":   {"it": "Chiusa.", "de": "Abgeschlossen.", "en": "Closed."},
	"note_reopened": {"it": "Riaperta: %s", "de": "Wieder eröffnet: %s", "en": "Reopened: %s"},
	"note_citizen_reopened": {
		"it": "Riaperta su richiesta del cittadino.",
		"de": "Auf Wunsch der meldenden Person wieder eröffnet.",
		"en": "Reopened at the citizen's request.",
	},
	"note_citizen_answered": {
		"it": "Il cittadino ha risposto.",
		"de": "Die meldende Person hat geantwortet.",
		"en": "The citizen has answered.",
	},

	"reply_ask": {
		"it": "Per la segnalazione n. %s l'ufficio ha bisogno di un chiarimento:\n\n%s",
		"de": "Zur Meldung Nr. %s braucht das Amt eine Auskunft:\n\n%s",
		"en": "About report no. %s, the office needs some details:\n\n%s",
	},
	"reply_resolved": {
		"it": "La segnalazione n. %s è risolta.\n\n%s",
		"de": "Die Meldung Nr. %s ist erledigt.\n\n%s",
		"en": "Report no. %s is resolved.\n\n%s",
	},
	"reopen_hint": {
		"it": "Se il problema non è davvero risolto, puoi riaprire la segnalazione dalla tua area personale entro %d giorni.",
		"de": "Ist das Problem nicht wirklich behoben, können Sie die Meldung innerhalb von %d Tagen in Ihrem persönlichen Bereich wieder eröffnen.",
		"en": "If the problem is not really solved, you can reopen the report from your personal area within %d days.",
	},
	"reply_closed": {
		"it": "La segnalazione n. %s è chiusa.\n\n%s",
		"de": "Die Meldung Nr. %s ist abgeschlossen.\n\n%s",
		"en": "Report no. %s is closed.\n\n%s",
	},
	"reply_reopened": {
		"it": "La segnalazione n. %s è di nuovo aperta.\n\n%s",
		"de": "Die Meldung Nr. %s ist wieder offen.\n\n%s",
		"en": "Report no. %s is open again.\n\n%s",
	},
	"answer_by_contact": {
		"it": "Per rispondere, contatta l'Ufficio Relazioni con il Pubblico citando il numero della pratica.",
		"de": "Um zu antworten, wenden Sie sich unter Angabe der Vorgangsnummer an das Bürgerbüro.",
		"en": "To answer, contact the public relations office, quoting the case number.",
	},

	"reopen_never": {
		"it": "Questo Comune non consente di riaprire online una segnalazione risolta: se il problema c'è ancora, inviane una nuova.",
		"de": "Diese Gemeinde erlaubt es nicht, eine erledigte Meldung online wieder zu eröffnen: Besteht das Problem weiter, senden Sie eine neue.",
		"en": "This town does not let you reopen a resolved report online: if the problem is still there, send a new one.",
	},
	"reopen_too_late": {
		"it": "La pratica %s è stata risolta il %s e si può riaprire solo entro %d giorni: se il problema c'è ancora, invia una nuova segnalazione.",
		"de": "Der Vorgang %s wurde am %s erledigt und kann nur innerhalb von %d Tagen wieder eröffnet werden: Besteht das Problem weiter, senden Sie eine neue Meldung.",
		"en": "Case %s was resolved on %s and can only be reopened within %d days: if the problem is still there, send a new report.",
	},
	"citizen_reopen": {
		"it": "Chiedo di riaprire la segnalazione: %s",
		"de": "Ich bitte, die Meldung wieder zu eröffnen: %s",
		"en": "I ask to reopen the report: %s",
	},
	"reopen_done": {
		"it": "La segnalazione %s è di nuovo aperta: l'ufficio la riprende in carico.",
		"de": "Die Meldung %s ist wieder offen: Das Amt nimmt sie wieder auf.",
		"en": "Report %s is open again: the office will take it up again.",
	},
	"reopen_asked": {
		"it": "Abbiamo inviato all'ufficio la tua richiesta di riaprire la segnalazione %s.",
		"de": "Wir haben Ihre Bitte, die Meldung %s wieder zu eröffnen, an das Amt gesendet.",
		"en": "We have sent the office your request to reopen report %s.",
	},
	"answer_done": {
		"it": "Abbiamo inviato la tua risposta: la segnalazione %s torna in lavorazione.",
		"de": "Wir haben Ihre Antwort gesendet: Die Meldung %s ist wieder in Bearbeitung.",
		"en": "We have sent your answer: report %s is in progress again.",
	},
	"answer_sent": {
		"it": "Abbiamo inviato la tua risposta all'ufficio per la segnalazione %s.",
		"de": "Wir haben Ihre Antwort zur Meldung %s an das Amt gesendet.",
		"en": "We have sent your answer about report %s to the office.",
	},
}
