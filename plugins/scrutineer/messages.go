package main

import "github.com/sportello/sportello/plugins/sdk"

var msg = sdk.Messages{
	"role.scrutineer": {"it": "scrutatore", "de": "Stimmenzähler/in", "en": "scrutineer"},
	"role.president":  {"it": "presidente di seggio", "de": "Vorsitzende/r des Wahllokals", "en": "polling-station president"},

	"status.submitted": {"it": "da verificare", "de": "zu prüfen", "en": "to be checked"},
	"status.approved":  {"it": "accolta", "de": "angenommen", "en": "accepted"},
	"status.rejected":  {"it": "respinta", "de": "abgelehnt", "en": "rejected"},

	"experience.none":       {"it": "nessuna", "de": "keine", "en": "none"},
	"experience.scrutineer": {"it": "scrutatore", "de": "Stimmenzähler", "en": "scrutineer"},
	"experience.secretary":  {"it": "segretario", "de": "Sekretär", "en": "secretary"},
	"experience.president":  {"it": "presidente", "de": "Vorsitz", "en": "president"},

	"citizens_only": {
		"it": "Solo la persona interessata può dare la propria disponibilità, dopo l'accesso con SPID o CIE.",
		"de": "Nur die betroffene Person kann sich melden, nach der Anmeldung mit SPID oder CIE.",
		"en": "Only the person concerned can offer their availability, after logging in with SPID or CIE.",
	},
	"staff_only": {
		"it": "Questa operazione è riservata all'Ufficio elettorale.",
		"de": "Dieser Vorgang ist dem Wahlamt vorbehalten.",
		"en": "Only the electoral office can do this.",
	},
	"no_round": {
		"it": "In questo momento il Comune non raccoglie disponibilità: nessuna tornata elettorale è aperta.",
		"de": "Die Gemeinde sammelt zurzeit keine Meldungen: Es ist kein Wahlgang offen.",
		"en": "The town is not collecting availability at the moment: no election round is open.",
	},
	"role_not_collected": {
		"it": "Il Comune non raccoglie online le disponibilità come %s. Rivolgiti all'Ufficio elettorale.",
		"de": "Die Gemeinde nimmt Meldungen als %s nicht online entgegen. Wenden Sie sich an das Wahlamt.",
		"en": "The town does not collect offers to be a %s online. Please contact the electoral office.",
	},
	"closed": {
		"it": "Il termine per dare la disponibilità per «%s» è scaduto %s. Nessuna altra tornata è aperta.",
		"de": "Die Frist für Meldungen zu «%s» ist am %s abgelaufen. Es ist kein weiterer Wahlgang offen.",
		"en": "The deadline to offer availability for “%s” passed on %s. No other round is open.",
	},
	"already": {
		"it": "Hai già dato la tua disponibilità come %s per «%s» (pratica n. %s). Per cambiarla, contatta l'Ufficio elettorale.",
		"de": "Sie haben sich für «%[2]s» bereits gemeldet, als %[1]s (Vorgang Nr. %[3]s). Für eine Änderung wenden Sie sich an das Wahlamt.",
		"en": "You have already offered to be a %s for “%s” (case no. %s). To change it, contact the electoral office.",
	},
	"need.resident": {
		"it": "Il Comune raccoglie le disponibilità delle persone residenti.",
		"de": "Die Gemeinde nimmt Meldungen von Personen mit Wohnsitz in der Gemeinde entgegen.",
		"en": "The town collects offers from people who live in the town.",
	},
	"need.voter_here": {
		"it": "Per lavorare al seggio devi essere iscritto nelle liste elettorali del Comune.",
		"de": "Für die Mitarbeit im Wahllokal müssen Sie im Wählerverzeichnis der Gemeinde stehen.",
		"en": "To work at a polling station you must be on the town's electoral roll.",
	},
	"need.in_register.scrutineer": {
		"it": "Possono fare lo scrutatore solo gli iscritti all'albo degli scrutatori. Chiedi l'iscrizione all'Ufficio elettorale.",
		"de": "Stimmen zählen kann nur, wer im Verzeichnis der Stimmenzähler steht. Beantragen Sie die Eintragung beim Wahlamt.",
		"en": "Only people on the register of scrutineers can be scrutineers. Ask the electoral office to add you.",
	},
	"need.in_register.president": {
		"it": "Possono fare il presidente solo gli iscritti all'albo dei presidenti di seggio. Chiedi l'iscrizione all'Ufficio elettorale.",
		"de": "Den Vorsitz kann nur übernehmen, wer im Verzeichnis der Wahllokalvorsitzenden steht. Beantragen Sie die Eintragung beim Wahlamt.",
		"en": "Only people on the register of presidents can be presidents. Ask the electoral office to add you.",
	},
	"need.schooling": {
		"it": "Per fare lo scrutatore devi aver assolto l'obbligo scolastico.",
		"de": "Stimmenzähler müssen die Schulpflicht erfüllt haben.",
		"en": "Scrutineers must have completed compulsory schooling.",
	},
	"need.diploma": {
		"it": "Per fare il presidente serve un diploma di scuola secondaria di secondo grado.",
		"de": "Für den Vorsitz ist ein Abschluss der Oberschule (Matura) nötig.",
		"en": "A president needs an upper secondary school diploma.",
	},
	"need.no_incompatibility": {
		"it": "Chi si trova in una delle condizioni elencate non può lavorare al seggio.",
		"de": "Wer unter einen der genannten Gründe fällt, kann nicht im Wahllokal arbeiten.",
		"en": "People to whom one of the listed conditions applies cannot work at a polling station.",
	},
	"need.birth_date": {
		"it": "Scrivi la data di nascita come giorno, mese e anno.",
		"de": "Geben Sie das Geburtsdatum mit Tag, Monat und Jahr an.",
		"en": "Give your date of birth as day, month and year.",
	},
	"need.of_age": {
		"it": "Per lavorare al seggio devi essere maggiorenne %s, primo giorno del voto.",
		"de": "Für die Mitarbeit im Wahllokal müssen Sie am %s, dem ersten Wahltag, volljährig sein.",
		"en": "To work at a polling station you must be of age on %s, the first voting day.",
	},
	"need.under_70": {
		"it": "Il presidente di seggio non deve aver compiuto 70 anni %s, ultimo giorno del voto.",
		"de": "Wer den Vorsitz übernimmt, muss am %s, dem letzten Wahltag, jünger als 70 Jahre sein.",
		"en": "A polling-station president must be under 70 on %s, the last voting day.",
	},
	"title": {
		"it": "Disponibilità come %s – %s",
		"de": "Meldung als %s – %s",
		"en": "Availability as %s – %s",
	},
	"done": {
		"it": "Grazie: abbiamo registrato la tua disponibilità come %s per «%s», pratica n. %s. L'Ufficio elettorale controlla i requisiti e ti risponde nella tua area personale.",
		"de": "Danke: Wir haben Ihre Meldung als %s für «%s» erfasst, Vorgang Nr. %s. Das Wahlamt prüft die Voraussetzungen und antwortet Ihnen in Ihrem persönlichen Bereich.",
		"en": "Thank you: we have recorded your availability as %s for “%s”, case no. %s. The electoral office checks the requirements and answers in your personal area.",
	},
	"mail_subject": {
		"it": "Disponibilità per il seggio, pratica n. %s",
		"de": "Meldung für das Wahllokal, Vorgang Nr. %s",
		"en": "Polling-station availability, case no. %s",
	},
	"office_body": {
		"it": "Nuova disponibilità come %s per «%s», pratica n. %s. Telefono: %s.",
		"de": "Neue Meldung als %s für «%s», Vorgang Nr. %s. Telefon: %s.",
		"en": "New availability as %s for “%s”, case no. %s. Phone: %s.",
	},

	"already_decided": {
		"it": "La pratica n. %s è già stata esaminata: la disponibilità è %s.",
		"de": "Der Vorgang Nr. %s ist bereits geprüft: Die Meldung ist %s.",
		"en": "Case no. %s has already been reviewed: the offer is %s.",
	},
	"approved.scrutineer": {
		"it": "La tua disponibilità come %s per «%s» è stata accolta: sei nell'elenco delle persone disponibili. Gli scrutatori sono nominati dalla Commissione elettorale comunale tra il venticinquesimo e il ventesimo giorno prima del voto; se vieni nominato, ricevi la notifica della nomina.",
		"de": "Ihre Meldung als %s für «%s» wurde angenommen: Sie stehen auf der Liste der verfügbaren Personen. Die Wahlkommission der Gemeinde ernennt die Stimmenzähler zwischen dem 25. und dem 20. Tag vor der Wahl; wenn Sie ernannt werden, erhalten Sie eine Mitteilung.",
		"en": "Your offer to be a %s for “%s” has been accepted: you are on the list of available people. The town's electoral commission appoints scrutineers between the 25th and the 20th day before the vote; if you are appointed, you receive the appointment.",
	},
	"approved.president": {
		"it": "La tua disponibilità come %s per «%s» è stata accolta: il Comune la trasmette alla Corte d'appello, che nomina i presidenti di seggio. Se vieni nominato, ricevi la notifica della nomina.",
		"de": "Ihre Meldung als %s für «%s» wurde angenommen: Die Gemeinde leitet sie an das Berufungsgericht weiter, das die Vorsitzenden ernennt. Wenn Sie ernannt werden, erhalten Sie eine Mitteilung.",
		"en": "Your offer to be a %s for “%s” has been accepted: the town passes it on to the Court of Appeal, which appoints polling-station presidents. If you are appointed, you receive the appointment.",
	},
	"rejected": {
		"it": "La tua disponibilità come %s per «%s» non è stata accolta. Motivo: %s Per chiarimenti, contatta l'Ufficio elettorale.",
		"de": "Ihre Meldung als %s für «%s» wurde nicht angenommen. Begründung: %s Für Rückfragen wenden Sie sich an das Wahlamt.",
		"en": "Your offer to be a %s for “%s” has not been accepted. Reason: %s For questions, contact the electoral office.",
	},
	"decided.approved": {
		"it": "Disponibilità accolta (pratica n. %s): la persona ha ricevuto la risposta.",
		"de": "Meldung angenommen (Vorgang Nr. %s): Die Person hat die Antwort erhalten.",
		"en": "Offer accepted (case no. %s): the person has been told.",
	},
	"decided.rejected": {
		"it": "Disponibilità respinta (pratica n. %s): la persona ha ricevuto il motivo.",
		"de": "Meldung abgelehnt (Vorgang Nr. %s): Die Person hat die Begründung erhalten.",
		"en": "Offer rejected (case no. %s): the person has been given the reason.",
	},

	"export.which_round": {
		"it": "Nessuna tornata è configurata: scrivi il codice della tornata da esportare.",
		"de": "Es ist kein Wahlgang eingerichtet: Geben Sie die Kennung des Wahlgangs an.",
		"en": "No round is configured: give the code of the round to export.",
	},
	"export.done.one": {
		"it": "Elenco pronto: una persona.",
		"de": "Liste bereit: eine Person.",
		"en": "List ready: one person.",
	},
	"export.done": {
		"it": "Elenco pronto: %d persone.",
		"de": "Liste bereit: %d Personen.",
		"en": "List ready: %d people.",
	},
	"export.file.scrutineer": {"it": "scrutatori", "de": "stimmenzaehler", "en": "scrutineers"},
	"export.file.president":  {"it": "presidenti", "de": "vorsitzende", "en": "presidents"},

	"col.number":     {"it": "Pratica", "de": "Vorgang", "en": "Case"},
	"col.submitted":  {"it": "Data della disponibilità", "de": "Datum der Meldung", "en": "Offered on"},
	"col.round":      {"it": "Tornata", "de": "Wahlgang", "en": "Round"},
	"col.role":       {"it": "Ruolo", "de": "Funktion", "en": "Role"},
	"col.status":     {"it": "Stato", "de": "Status", "en": "Status"},
	"col.name":       {"it": "Nome e cognome", "de": "Name", "en": "Name"},
	"col.birth_date": {"it": "Data di nascita", "de": "Geburtsdatum", "en": "Date of birth"},
	"col.section":    {"it": "Sezione elettorale", "de": "Wahlsektion", "en": "Polling section"},
	"col.phone":      {"it": "Telefono", "de": "Telefon", "en": "Phone"},
	"col.experience": {"it": "Esperienza al seggio", "de": "Erfahrung im Wahllokal", "en": "Polling-station experience"},
}
