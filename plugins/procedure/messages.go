package procedure

import "github.com/sportello/sportello/plugins/sdk"

// msg holds what every procedure says in its own words: refusals, field
// errors, confirmations, and the labels of the configuration page.
var msg = sdk.Messages{
	"who.staff_only": {
		"it": "Questa domanda si presenta allo sportello: il personale del Comune la inserisce per te.",
		"de": "Dieser Antrag wird am Schalter gestellt: Die Mitarbeitenden der Gemeinde erfassen ihn für Sie.",
		"en": "This application is made at the counter: the town's staff enter it for you.",
	},
	"who.no_staff": {
		"it": "Questa domanda la presenta solo la persona interessata, dopo l'accesso con SPID o CIE.",
		"de": "Diesen Antrag stellt nur die betroffene Person selbst, nach der Anmeldung mit SPID oder CIE.",
		"en": "Only the person concerned can make this application, after logging in with SPID or CIE.",
	},
	"who.login": {
		"it": "Per presentare la domanda accedi con SPID o CIE.",
		"de": "Melden Sie sich mit SPID oder CIE an, um den Antrag zu stellen.",
		"en": "Log in with SPID or CIE to apply.",
	},
	"window.unset": {
		"it": "In questo momento non si possono presentare domande: il Comune non ha ancora aperto le iscrizioni.",
		"de": "Zurzeit können keine Anträge gestellt werden: Die Gemeinde hat die Anmeldung noch nicht eröffnet.",
		"en": "Applications cannot be made at the moment: the town has not opened them yet.",
	},
	"window.not_yet": {
		"it": "Le domande si possono presentare dal %s.",
		"de": "Anträge können ab dem %s gestellt werden.",
		"en": "Applications open on %s.",
	},
	"window.closed": {
		"it": "Il termine per presentare la domanda è scaduto il %s.",
		"de": "Die Frist für den Antrag ist am %s abgelaufen.",
		"en": "The deadline to apply passed on %s.",
	},
	"form.invalid": {
		"it": "Questo valore non è valido.",
		"de": "Dieser Wert ist ungültig.",
		"en": "This value is not valid.",
	},
	"form.required": {
		"it": "Questo campo è obbligatorio.",
		"de": "Dieses Feld ist erforderlich.",
		"en": "This field is required.",
	},
	"form.accept": {
		"it": "Per continuare devi spuntare questa casella.",
		"de": "Um fortzufahren, müssen Sie dieses Feld ankreuzen.",
		"en": "Tick this box to continue.",
	},
	"file.missing": {
		"it": "Il file non è arrivato: allegalo di nuovo.",
		"de": "Die Datei ist nicht angekommen: Bitte fügen Sie sie erneut bei.",
		"en": "The file did not arrive: attach it again.",
	},
	"file.type": {
		"it": "Questo tipo di file non è accettato: allega un file %s.",
		"de": "Dieser Dateityp wird nicht angenommen: Bitte fügen Sie eine Datei im Format %s bei.",
		"en": "This type of file is not accepted: attach a %s file.",
	},
	"file.size": {
		"it": "Il file è troppo grande (%s): al massimo %s.",
		"de": "Die Datei ist zu groß (%s): höchstens %s.",
		"en": "The file is too large (%s): at most %s.",
	},
	"rule.fiscal_code": {
		"it": "Il codice fiscale non è corretto: controlla i 16 caratteri.",
		"de": "Die Steuernummer ist nicht korrekt: Prüfen Sie die 16 Zeichen.",
		"en": "The fiscal code is not correct: check its 16 characters.",
	},
	"rule.not_before_date": {
		"it": "Scegli una data dal %s in poi.",
		"de": "Wählen Sie ein Datum ab dem %s.",
		"en": "Choose a date from %s on.",
	},
	"rule.not_after_date": {
		"it": "Scegli una data non successiva al %s.",
		"de": "Wählen Sie ein Datum bis spätestens %s.",
		"en": "Choose a date no later than %s.",
	},
	"rule.not_before_field": {
		"it": "Questa data non può essere precedente a «%s».",
		"de": "Dieses Datum darf nicht vor «%s» liegen.",
		"en": "This date cannot be earlier than “%s”.",
	},
	"once.window": {
		"it": "Per questa persona c'è già una domanda in questo periodo di iscrizione (pratica n. %s).",
		"de": "Für diese Person liegt in diesem Anmeldezeitraum bereits ein Antrag vor (Vorgang Nr. %s).",
		"en": "There is already an application for this person in this enrolment period (case no. %s).",
	},
	"once.year": {
		"it": "Per questa persona c'è già una domanda quest'anno (pratica n. %s).",
		"de": "Für diese Person liegt in diesem Jahr bereits ein Antrag vor (Vorgang Nr. %s).",
		"en": "There is already an application for this person this year (case no. %s).",
	},
	"once.ever": {
		"it": "Per questa persona c'è già una domanda (pratica n. %s).",
		"de": "Für diese Person liegt bereits ein Antrag vor (Vorgang Nr. %s).",
		"en": "There is already an application for this person (case no. %s).",
	},
	"submit.done": {
		"it": "Domanda inviata: è la pratica n. %s. L'ufficio la conclude entro il %s e ti avvisa a ogni passaggio.",
		"de": "Antrag gesendet: Vorgangsnummer %s. Das Amt schließt ihn bis zum %s ab und informiert Sie über jeden Schritt.",
		"en": "Application sent: case no. %s. The office concludes it by %s and lets you know at every step.",
	},
	"action.payment": {
		"it": "Esito del pagamento",
		"de": "Ergebnis der Zahlung",
		"en": "Payment outcome",
	},
	"payment.received": {
		"it": "Abbiamo ricevuto il pagamento di %s per la pratica n. %s. L'ufficio prosegue con la tua domanda e ti avvisa a ogni passaggio.",
		"de": "Wir haben Ihre Zahlung von %s für den Vorgang Nr. %s erhalten. Das Amt bearbeitet Ihren Antrag weiter und informiert Sie über jeden Schritt.",
		"en": "We have received your payment of %s for case no. %s. The office goes on with your application and lets you know at every step.",
	},
	"payment.failed": {
		"it": "Il pagamento per la pratica n. %s non è andato a buon fine e non ti è stato addebitato nulla. Puoi riprovare dalla tua area personale, con lo stesso avviso pagoPA n. %s.",
		"de": "Die Zahlung zum Vorgang Nr. %s ist fehlgeschlagen; es wurde nichts abgebucht. Sie können es in Ihrem persönlichen Bereich erneut versuchen, mit derselben pagoPA-Zahlungsmitteilung Nr. %s.",
		"en": "The payment for case no. %s did not go through and nothing was charged. You can try again from your personal area, with the same pagoPA notice no. %s.",
	},
	"payment.expired": {
		"it": "L'avviso pagoPA n. %[2]s per la pratica n. %[1]s è scaduto senza essere pagato. Contatta l'ufficio per ricevere un nuovo avviso.",
		"de": "Die pagoPA-Zahlungsmitteilung Nr. %[2]s zum Vorgang Nr. %[1]s ist unbezahlt abgelaufen. Wenden Sie sich an das Amt, um eine neue Mitteilung zu erhalten.",
		"en": "pagoPA notice no. %[2]s for case no. %[1]s expired unpaid. Contact the office to receive a new notice.",
	},
	"payment.not_this": {
		"it": "Il pagamento %d non è quello che la pratica n. %s attende.",
		"de": "Die Zahlung %d ist nicht die, auf die Vorgang Nr. %s wartet.",
		"en": "Payment %d is not the one case no. %s is waiting for.",
	},
	"payment.noted": {
		"it": "Esito del pagamento della pratica n. %s: %s.",
		"de": "Ergebnis der Zahlung zum Vorgang Nr. %s: %s.",
		"en": "Payment outcome for case no. %s: %s.",
	},
	"pay.now": {
		"it": "Importo da pagare: %s, con l'avviso pagoPA n. %s (online, in banca, in posta o in tabaccheria).",
		"de": "Zu zahlender Betrag: %s, mit der pagoPA-Zahlungsmitteilung Nr. %s (online, bei der Bank, der Post oder im Tabakladen).",
		"en": "Amount to pay: %s, with pagoPA notice no. %s (online, at a bank, a post office or a tobacconist).",
	},
	"pay.later": {
		"it": "Importo da pagare: %s. L'avviso di pagamento pagoPA ti arriva a parte.",
		"de": "Zu zahlender Betrag: %s. Die pagoPA-Zahlungsmitteilung erhalten Sie gesondert.",
		"en": "Amount to pay: %s. The pagoPA payment notice will reach you separately.",
	},
	"pay.failed_note": {
		"it": "Avviso di pagamento non creato automaticamente (%s): invialo al richiedente.",
		"de": "Zahlungsmitteilung nicht automatisch erstellt (%s): Bitte dem Antragsteller senden.",
		"en": "Payment notice not created automatically (%s): send it to the applicant.",
	},
	"mail.subject": {
		"it": "%s: pratica n. %s",
		"de": "%s: Vorgang Nr. %s",
		"en": "%s: case no. %s",
	},
	"mail.office": {
		"it": "Nuova domanda «%s», pratica n. %s, ricevuta %s. Da concludere entro il %s.",
		"de": "Neuer Antrag «%s», Vorgang Nr. %s, eingegangen %s. Abzuschließen bis %s.",
		"en": "New application “%s”, case no. %s, received %s. To be concluded by %s.",
	},
	"channel.web": {"it": "online", "de": "online", "en": "online"},
	"channel.counter": {
		"it": "allo sportello",
		"de": "am Schalter",
		"en": "at the counter",
	},
	"transition.staff_only": {
		"it": "Solo il personale dell'ufficio può far avanzare una pratica.",
		"de": "Nur die Mitarbeitenden des Amtes können einen Vorgang weiterführen.",
		"en": "Only the office's staff can move a case on.",
	},
	"transition.no_dossier": {
		"it": "Apri prima la pratica su cui vuoi agire.",
		"de": "Öffnen Sie zuerst den Vorgang, den Sie bearbeiten möchten.",
		"en": "Open the case you want to act on first.",
	},
	"transition.wrong_state": {
		"it": "La pratica n. %s è nello stato «%s»: da qui non si può «%s».",
		"de": "Der Vorgang Nr. %s hat den Status «%s»: Von hier aus ist «%s» nicht möglich.",
		"en": "Case no. %s is “%s”: “%s” is not possible from there.",
	},
	"transition.unpaid": {
		"it": "Il pagamento della pratica n. %s (avviso n. %s) non risulta ancora ricevuto.",
		"de": "Die Zahlung zum Vorgang Nr. %s (Mitteilung Nr. %s) ist noch nicht eingegangen.",
		"en": "The payment for case no. %s (notice no. %s) has not been received yet.",
	},
	"transition.done": {
		"it": "Pratica n. %s: ora è «%s».",
		"de": "Vorgang Nr. %s: jetzt «%s».",
		"en": "Case no. %s: now “%s”.",
	},
	"note.title": {
		"it": "Messaggio per il richiedente",
		"de": "Nachricht an die antragstellende Person",
		"en": "Message to the applicant",
	},
	"note.optional": {
		"it": "Facoltativo. Il richiedente lo legge nella pratica e riceve un avviso.",
		"de": "Freiwillig. Die antragstellende Person liest sie im Vorgang und wird benachrichtigt.",
		"en": "Optional. The applicant reads it on the case and is notified.",
	},
	"note.required": {
		"it": "Spiega il motivo o che cosa serve: il richiedente lo legge nella pratica e riceve un avviso.",
		"de": "Erklären Sie den Grund oder was noch fehlt: Die antragstellende Person liest es im Vorgang und wird benachrichtigt.",
		"en": "Explain why, or what is needed: the applicant reads it on the case and is notified.",
	},
	"note.example": {
		"it": "Manca la copia del documento d'identità: allegala rispondendo a questo messaggio.",
		"de": "Es fehlt die Kopie des Ausweises: Bitte fügen Sie sie in Ihrer Antwort bei.",
		"en": "The copy of your identity document is missing: attach it in your reply.",
	},
	"note.missing": {
		"it": "Scrivi il messaggio per il richiedente.",
		"de": "Schreiben Sie die Nachricht an die antragstellende Person.",
		"en": "Write the message to the applicant.",
	},
	"config.office": {
		"it": "Ufficio competente",
		"de": "Zuständiges Amt",
		"en": "Office in charge",
	},
	"config.office_help": {
		"it": "Il codice dell'ufficio che riceve le pratiche. Se lo lasci vuoto: %s.",
		"de": "Die Kennung des Amtes, das die Vorgänge erhält. Wenn leer: %s.",
		"en": "The code of the office that receives the cases. If empty: %s.",
	},
	"config.office_email": {
		"it": "E-mail dell'ufficio",
		"de": "E-Mail des Amtes",
		"en": "Office e-mail",
	},
	"config.office_email_help": {
		"it": "Riceve un avviso per ogni nuova domanda. Facoltativo.",
		"de": "Erhält eine Mitteilung zu jedem neuen Antrag. Freiwillig.",
		"en": "Receives a notice of every new application. Optional.",
	},
	"config.processing_days": {
		"it": "Giorni per concludere",
		"de": "Tage bis zum Abschluss",
		"en": "Days to conclude",
	},
	"config.processing_days_help": {
		"it": "Il termine che il Comune si impegna a rispettare; per legge al massimo %d giorni.",
		"de": "Die Frist, zu der sich die Gemeinde verpflichtet; gesetzlich höchstens %d Tage.",
		"en": "The time the town commits to; by law at most %d days.",
	},
	"config.opens": {
		"it": "Apertura delle domande",
		"de": "Beginn der Antragsfrist",
		"en": "Applications open",
	},
	"config.closes": {
		"it": "Ultimo giorno per le domande",
		"de": "Letzter Tag für Anträge",
		"en": "Last day to apply",
	},
	"config.window_help": {
		"it": "Facoltativo: fuori da questo periodo le domande sono respinte.",
		"de": "Freiwillig: Außerhalb dieses Zeitraums werden Anträge abgelehnt.",
		"en": "Optional: outside this period applications are refused.",
	},
	"config.window_required_help": {
		"it": "Senza queste due date nessuno può presentare domanda.",
		"de": "Ohne diese beiden Daten kann niemand einen Antrag stellen.",
		"en": "Without both dates nobody can apply.",
	},
	"config.currency": {
		"it": "Valuta",
		"de": "Währung",
		"en": "Currency",
	},
	"config.currency_help": {
		"it": "Se la lasci vuota: %s.",
		"de": "Wenn leer: %s.",
		"en": "If empty: %s.",
	},
	"config.fee_amount": {
		"it": "Importo (%s)",
		"de": "Betrag (%s)",
		"en": "Amount (%s)",
	},
	"config.fee_amount_help": {
		"it": "Se lo lasci vuoto: %s. Zero rende il servizio gratuito.",
		"de": "Wenn leer: %s. Null macht den Dienst kostenlos.",
		"en": "If empty: %s. Zero makes the service free.",
	},
	"config.fee_amounts": {
		"it": "Tariffe (%s)",
		"de": "Tarife (%s)",
		"en": "Tariffs (%s)",
	},
	"config.fee_amounts_help": {
		"it": "Le tariffe deliberate dal Comune; una voce vuota usa l'importo indicato.",
		"de": "Die von der Gemeinde beschlossenen Tarife; ein leerer Eintrag verwendet den angegebenen Betrag.",
		"en": "The tariffs the town has set; an empty one uses the amount shown.",
	},
	"config.fee_default": {
		"it": "Se lo lasci vuoto: %s.",
		"de": "Wenn leer: %s.",
		"en": "If empty: %s.",
	},
}
