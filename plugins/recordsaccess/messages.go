package main

import "github.com/sportello/sportello/plugins/sdk"

var msg = sdk.Messages{
	"kind.civic":       {"it": "accesso civico semplice", "de": "einfacher Bürgerzugang", "en": "simple civic access"},
	"kind.generalised": {"it": "accesso civico generalizzato", "de": "allgemeiner Bürgerzugang", "en": "generalised civic access"},
	"kind.documentary": {"it": "accesso documentale", "de": "Zugang zu Verwaltungsunterlagen", "en": "access to administrative records"},

	"status.pending":                 {"it": "in corso", "de": "in Bearbeitung", "en": "pending"},
	"status.submitted":               {"it": "ricevuta", "de": "eingegangen", "en": "received"},
	"status.counterparties_notified": {"it": "controinteressati informati", "de": "Gegeninteressenten informiert", "en": "counter-interested parties notified"},
	"status.granted":                 {"it": "accolta", "de": "angenommen", "en": "granted"},
	"status.partly_granted":          {"it": "accolta in parte", "de": "teilweise angenommen", "en": "partly granted"},
	"status.refused":                 {"it": "respinta", "de": "abgelehnt", "en": "refused"},
	"status.withdrawn":               {"it": "ritirata", "de": "zurückgezogen", "en": "withdrawn"},

	"ground.public_interest":  {"it": "tutela di interessi pubblici", "de": "Schutz öffentlicher Interessen", "en": "protection of public interests"},
	"ground.private_interest": {"it": "tutela di interessi privati", "de": "Schutz privater Interessen", "en": "protection of private interests"},
	"ground.excluded":         {"it": "esclusione prevista dalla legge", "de": "gesetzlicher Ausschluss", "en": "exclusion set by law"},
	"ground.no_interest":      {"it": "interesse non diretto, concreto e attuale", "de": "kein unmittelbares, konkretes und aktuelles Interesse", "en": "no direct, concrete and current interest"},
	"ground.not_held":         {"it": "documenti non detenuti", "de": "Unterlagen nicht vorhanden", "en": "records not held"},
	"ground.not_mandatory":    {"it": "pubblicazione non obbligatoria", "de": "keine Veröffentlichungspflicht", "en": "publication not mandatory"},

	"yes": {"it": "sì", "de": "ja", "en": "yes"},
	"no":  {"it": "no", "de": "nein", "en": "no"},

	"citizens_only": {
		"it": "Per chiedere l'accesso accedi con SPID o CIE: la richiesta è a tuo nome.",
		"de": "Für einen Antrag melden Sie sich mit SPID oder CIE an: Der Antrag lautet auf Ihren Namen.",
		"en": "Log in with SPID or CIE to request access: the request is made in your name.",
	},
	"staff_only": {
		"it": "Questa operazione è riservata agli uffici del Comune.",
		"de": "Dieser Vorgang ist den Ämtern der Gemeinde vorbehalten.",
		"en": "Only the town's offices can do this.",
	},
	"not_configured": {
		"it": "Il Comune non ha ancora attivato le richieste di accesso online. Rivolgiti all'Ufficio Relazioni con il Pubblico.",
		"de": "Die Gemeinde hat Zugangsanträge noch nicht online eingerichtet. Wenden Sie sich an das Bürgerbüro.",
		"en": "The town has not set up access requests online yet. Please contact the public relations office.",
	},
	"which_type": {
		"it": "Scegli il tipo di accesso.",
		"de": "Wählen Sie die Art des Zugangs.",
		"en": "Choose the kind of access.",
	},
	"which_office": {
		"it": "Non troviamo questo ufficio. Scrivi il nome di uno di questi: %s. Se non lo sai, lascia vuoto.",
		"de": "Dieses Amt finden wir nicht. Schreiben Sie den Namen eines dieser Ämter: %s. Wenn Sie es nicht wissen, lassen Sie das Feld leer.",
		"en": "We cannot find this office. Write the name of one of these: %s. If you do not know, leave it empty.",
	},
	"need.motivation": {
		"it": "Per l'accesso documentale spiega il tuo interesse diretto, concreto e attuale e il suo legame con i documenti.",
		"de": "Beim Zugang zu Verwaltungsunterlagen erklären Sie Ihr unmittelbares, konkretes und aktuelles Interesse und seinen Bezug zu den Unterlagen.",
		"en": "For access to administrative records, explain your direct, concrete and current interest and how it relates to the records.",
	},
	"need.identity": {
		"it": "Per l'accesso documentale allega un documento d'identità valido.",
		"de": "Beim Zugang zu Verwaltungsunterlagen legen Sie einen gültigen Ausweis bei.",
		"en": "For access to administrative records, attach a valid identity document.",
	},
	"identity.again": {
		"it": "Non abbiamo ricevuto il documento d'identità: allegalo di nuovo.",
		"de": "Wir haben den Ausweis nicht erhalten: Bitte legen Sie ihn erneut bei.",
		"en": "We did not receive the identity document: please attach it again.",
	},
	"identity.type": {
		"it": "Il documento d'identità deve essere un file PDF, JPEG o PNG.",
		"de": "Der Ausweis muss eine PDF-, JPEG- oder PNG-Datei sein.",
		"en": "The identity document must be a PDF, JPEG or PNG file.",
	},
	"identity.size": {
		"it": "Il documento d'identità può pesare al massimo %d MB.",
		"de": "Der Ausweis darf höchstens %d MB groß sein.",
		"en": "The identity document can be at most %d MB.",
	},
	"title": {
		"it": "Richiesta di %s – %s",
		"de": "Antrag auf %s – %s",
		"en": "Request for %s – %s",
	},
	"done": {
		"it": "Abbiamo registrato la tua richiesta di %s con protocollo n. %s, presentata %s. È assegnata all'ufficio %s, che decide entro %s. Trovi la risposta nella tua area personale e per e-mail.",
		"de": "Wir haben Ihren Antrag auf %s unter der Protokollnummer %s vom %s erfasst. Er ist dem Amt %s zugewiesen, das bis %s entscheidet. Die Antwort finden Sie in Ihrem persönlichen Bereich und per E-Mail.",
		"en": "We have recorded your request for %s under protocol no. %s of %s. It is assigned to the office %s, which decides by %s. You will find the answer in your personal area and by e-mail.",
	},
	"mail_subject": {
		"it": "Richiesta di accesso, protocollo n. %s",
		"de": "Zugangsantrag, Protokollnummer %s",
		"en": "Access request, protocol no. %s",
	},
	"office_subject": {
		"it": "Nuova richiesta di accesso, protocollo n. %s",
		"de": "Neuer Zugangsantrag, Protokollnummer %s",
		"en": "New access request, protocol no. %s",
	},
	"office_body": {
		"it": "Nuova richiesta di %s, protocollo n. %s: «%s». Assegnata all'ufficio %s; termine per decidere: %s.",
		"de": "Neuer Antrag auf %s, Protokollnummer %s: «%s». Zugewiesen an das Amt %s; Entscheidungsfrist: %s.",
		"en": "New request for %s, protocol no. %s: “%s”. Assigned to the office %s; deadline to decide: %s.",
	},

	"closed": {
		"it": "La richiesta n. %s è già chiusa: è %s.",
		"de": "Der Antrag Nr. %s ist bereits abgeschlossen: Er ist %s.",
		"en": "Request no. %s is already closed: it is %s.",
	},
	"no_counterparties": {
		"it": "Nell'%s non ci sono controinteressati: i dati sono pubblici per legge.",
		"de": "Beim %s gibt es keine Gegeninteressenten: Die Daten sind von Gesetzes wegen öffentlich.",
		"en": "In %s there are no counter-interested parties: the data is public by law.",
	},
	"already_notified": {
		"it": "Per la richiesta n. %s i controinteressati sono già stati informati. Se ne informi altri, annotalo nella pratica.",
		"de": "Für den Antrag Nr. %s wurden die Gegeninteressenten bereits informiert. Wenn Sie weitere informieren, vermerken Sie es im Vorgang.",
		"en": "The counter-interested parties of request no. %s have already been notified. If you notify more, note it on the case.",
	},
	"date.bad": {
		"it": "Scrivi la data come giorno, mese e anno.",
		"de": "Geben Sie das Datum mit Tag, Monat und Jahr an.",
		"en": "Give the date as day, month and year.",
	},
	"date.future": {
		"it": "La data non può essere nel futuro.",
		"de": "Das Datum darf nicht in der Zukunft liegen.",
		"en": "The date cannot be in the future.",
	},
	"date.before_request": {
		"it": "La data non può precedere la richiesta, presentata %s.",
		"de": "Das Datum darf nicht vor dem Antrag vom %s liegen.",
		"en": "The date cannot come before the request, made on %s.",
	},
	"date.before_sent": {
		"it": "La ricezione non può precedere l'invio della comunicazione.",
		"de": "Der Empfang kann nicht vor dem Versand der Mitteilung liegen.",
		"en": "Receipt cannot come before the notice was sent.",
	},
	"counterparties.runs": {
		"it": "Per la tua richiesta n. %s il Comune ha informato le persone i cui interessi sono toccati (controinteressati): possono opporsi entro %s. Il termine per la decisione resta %s.",
		"de": "Zu Ihrem Antrag Nr. %s hat die Gemeinde die Personen informiert, deren Interessen berührt sind (Gegeninteressenten): Sie können bis %s widersprechen. Die Entscheidungsfrist bleibt der %s.",
		"en": "For your request no. %s the town has notified the people whose interests are affected (counter-interested parties): they may object until %s. The deadline for the decision remains %s.",
	},
	"counterparties.suspends": {
		"it": "Per la tua richiesta n. %s il Comune ha informato le persone i cui interessi sono toccati (controinteressati): possono opporsi entro %s. Intanto il termine è sospeso: il Comune decide entro %s.",
		"de": "Zu Ihrem Antrag Nr. %s hat die Gemeinde die Personen informiert, deren Interessen berührt sind (Gegeninteressenten): Sie können bis %s widersprechen. So lange ist die Frist ausgesetzt: Die Gemeinde entscheidet bis %s.",
		"en": "For your request no. %s the town has notified the people whose interests are affected (counter-interested parties): they may object until %s. Meanwhile the deadline is suspended: the town decides by %s.",
	},
	"counterparties.history": {
		"it": "%d controinteressati informati %s; opposizione possibile entro %s.",
		"de": "%d Gegeninteressenten am %s informiert; Widerspruch bis %s möglich.",
		"en": "%d counter-interested parties notified on %s; objection possible until %s.",
	},
	"counterparties.done": {
		"it": "Registrato per la richiesta n. %s: opposizione possibile entro %s, decisione entro %s. Il richiedente è stato informato.",
		"de": "Für den Antrag Nr. %s erfasst: Widerspruch bis %s möglich, Entscheidung bis %s. Der Antragsteller wurde informiert.",
		"en": "Recorded for request no. %s: objection possible until %s, decision due by %s. The applicant has been told.",
	},

	"need.reasons": {
		"it": "Per l'accoglimento parziale e per il rifiuto la motivazione è obbligatoria.",
		"de": "Bei teilweiser Annahme und bei Ablehnung ist eine Begründung verpflichtend.",
		"en": "A partial grant or a refusal needs its reasons.",
	},
	"outcome.granted": {
		"it": "La tua richiesta di %s, protocollo n. %s, è stata accolta.",
		"de": "Ihr Antrag auf %s, Protokollnummer %s, wurde angenommen.",
		"en": "Your request for %s, protocol no. %s, has been granted.",
	},
	"outcome.partly_granted": {
		"it": "La tua richiesta di %s, protocollo n. %s, è stata accolta in parte.",
		"de": "Ihr Antrag auf %s, Protokollnummer %s, wurde teilweise angenommen.",
		"en": "Your request for %s, protocol no. %s, has been partly granted.",
	},
	"outcome.refused": {
		"it": "La tua richiesta di %s, protocollo n. %s, è stata respinta.",
		"de": "Ihr Antrag auf %s, Protokollnummer %s, wurde abgelehnt.",
		"en": "Your request for %s, protocol no. %s, has been refused.",
	},
	"outcome.reasons": {
		"it": "Motivazione: %s",
		"de": "Begründung: %s",
		"en": "Reasons: %s",
	},
	"outcome.directions": {
		"it": "Indicazioni dell'ufficio: %s",
		"de": "Hinweise des Amtes: %s",
		"en": "The office's directions: %s",
	},
	"delivery.email": {
		"it": "Ti mandiamo le copie all'indirizzo %[1]s.",
		"de": "Wir senden Ihnen die Kopien an %[1]s.",
		"en": "We send you the copies at %[1]s.",
	},
	"delivery.paper": {
		"it": "Puoi ritirare le copie all'ufficio %[2]s, che ti dice l'eventuale costo di riproduzione.",
		"de": "Sie können die Kopien beim Amt %[2]s abholen, das Ihnen allfällige Vervielfältigungskosten mitteilt.",
		"en": "You can collect the copies at the office %[2]s, which tells you any cost of reproduction.",
	},
	"delivery.inspection": {
		"it": "Puoi consultare i documenti all'ufficio %[2]s, che ti contatta per fissare il giorno.",
		"de": "Sie können die Unterlagen beim Amt %[2]s einsehen, das sich für einen Termin bei Ihnen meldet.",
		"en": "You can inspect the records at the office %[2]s, which contacts you to set a day.",
	},
	"remedy.civic": {
		"it": "Se non sei d'accordo, puoi chiedere il riesame al Responsabile della prevenzione della corruzione e della trasparenza, che decide entro 20 giorni, o ricorrere al Tribunale amministrativo regionale entro 30 giorni.",
		"de": "Wenn Sie nicht einverstanden sind, können Sie die Überprüfung durch die oder den Verantwortlichen für Korruptionsvorbeugung und Transparenz beantragen, die innerhalb von 20 Tagen entscheidet, oder innerhalb von 30 Tagen das Verwaltungsgericht anrufen.",
		"en": "If you disagree, you can ask the officer for corruption prevention and transparency to review it, who decides within 20 days, or appeal to the regional administrative court within 30 days.",
	},
	"remedy.documentary": {
		"it": "Se non sei d'accordo, entro 30 giorni puoi ricorrere al Tribunale amministrativo regionale o chiedere il riesame al difensore civico.",
		"de": "Wenn Sie nicht einverstanden sind, können Sie innerhalb von 30 Tagen das Verwaltungsgericht anrufen oder die Überprüfung durch die Volksanwaltschaft beantragen.",
		"en": "If you disagree, within 30 days you can appeal to the regional administrative court or ask the ombudsman (difensore civico) to review it.",
	},
	"outcome_subject": {
		"it": "Esito della richiesta di accesso, protocollo n. %s",
		"de": "Entscheidung über den Zugangsantrag, Protokollnummer %s",
		"en": "Decision on your access request, protocol no. %s",
	},
	"decided": {
		"it": "Richiesta n. %s: %s. Il richiedente ha ricevuto la comunicazione.",
		"de": "Antrag Nr. %s: %s. Der Antragsteller wurde benachrichtigt.",
		"en": "Request no. %s: %s. The applicant has been told.",
	},
	"withdrawn": {
		"it": "Abbiamo registrato la tua rinuncia alla richiesta n. %s: la pratica è chiusa.",
		"de": "Wir haben die Rücknahme Ihres Antrags Nr. %s erfasst: Der Vorgang ist abgeschlossen.",
		"en": "We have recorded that you withdrew request no. %s: the case is closed.",
	},

	"register.done": {
		"it": "Registro degli accessi %d: %d richieste.",
		"de": "Zugangsregister %d: %d Anträge.",
		"en": "Register of access requests %d: %d requests.",
	},
	"register.file": {"it": "registro-accessi", "de": "zugangsregister", "en": "access-register"},

	"col.number":         {"it": "Protocollo", "de": "Protokollnummer", "en": "Protocol no."},
	"col.date":           {"it": "Data della richiesta", "de": "Datum des Antrags", "en": "Date of request"},
	"col.type":           {"it": "Tipo di accesso", "de": "Art des Zugangs", "en": "Kind of access"},
	"col.object":         {"it": "Oggetto", "de": "Gegenstand", "en": "Subject"},
	"col.office":         {"it": "Ufficio", "de": "Amt", "en": "Office"},
	"col.counterparties": {"it": "Controinteressati", "de": "Gegeninteressenten", "en": "Counter-interested parties"},
	"col.outcome":        {"it": "Esito", "de": "Ergebnis", "en": "Outcome"},
	"col.outcome_date":   {"it": "Data dell'esito", "de": "Datum der Entscheidung", "en": "Date of outcome"},
	"col.grounds":        {"it": "Motivi di esclusione o limitazione", "de": "Gründe für Ausschluss oder Einschränkung", "en": "Grounds for refusal or limitation"},
}
