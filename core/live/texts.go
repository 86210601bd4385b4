package live

import "fmt"

// texts are what the hub itself says to the people in a call, in the
// person's language; the pages' own texts are in web/locales/live.*.
var texts = map[string]map[string]string{
	"malformed": {
		"it": "Messaggio non valido: ricarica la pagina.",
		"de": "Ungültige Nachricht: Bitte laden Sie die Seite neu.",
		"en": "Invalid message: please reload the page.",
	},
	"chat_length": {
		"it": "Il messaggio deve avere da 1 a 2000 caratteri.",
		"de": "Die Nachricht muss 1 bis 2000 Zeichen lang sein.",
		"en": "A message must be 1 to 2000 characters long.",
	},
	"not_in_call": {
		"it": "La chat si apre quando un operatore risponde.",
		"de": "Der Chat öffnet sich, sobald jemand antwortet.",
		"en": "The chat opens when someone answers.",
	},
	"mode_up": {
		"it": "Durante la conversazione si può passare solo da video a voce e da voce a chat.",
		"de": "Während des Gesprächs kann man nur von Video zu Sprache und von Sprache zu Chat wechseln.",
		"en": "During the call you can only switch from video to voice and from voice to chat.",
	},
	"queue_empty": {
		"it": "Nessuno in attesa ai tuoi sportelli.",
		"de": "An Ihren Schaltern wartet niemand.",
		"en": "Nobody is waiting at your desks.",
	},
	"taken": {
		"it": "Questa persona è già con un collega, o non è più in coda.",
		"de": "Diese Person spricht bereits mit jemand anderem oder wartet nicht mehr.",
		"en": "This person is already with a colleague, or no longer waiting.",
	},
	"busy": {
		"it": "Sei già in una conversazione: chiudila prima di chiamare il prossimo.",
		"de": "Sie führen bereits ein Gespräch: Beenden Sie es, bevor Sie die nächste Person aufrufen.",
		"en": "You are already in a call: end it before you take the next person.",
	},
	"away": {
		"it": "Sei in pausa: mettiti disponibile per chiamare.",
		"de": "Sie sind abwesend: Melden Sie sich verfügbar, um jemanden aufzurufen.",
		"en": "You are away: set yourself available to take a call.",
	},
	"no_desk": {
		"it": "Non sei assegnato a nessuno sportello online.",
		"de": "Sie sind keinem Online-Schalter zugeordnet.",
		"en": "You are not assigned to any online desk.",
	},
	"bad_transfer": {
		"it": "Scegli un collega disponibile o uno sportello esistente.",
		"de": "Wählen Sie eine verfügbare Kollegin, einen verfügbaren Kollegen oder einen bestehenden Schalter.",
		"en": "Choose an available colleague or an existing desk.",
	},
	"media_down": {
		"it": "Il servizio video non risponde: la persona torna in testa alla coda. Riprova tra poco.",
		"de": "Der Videodienst antwortet nicht: Die Person ist wieder an erster Stelle. Versuchen Sie es gleich noch einmal.",
		"en": "The video service is not answering: the person is back at the head of the queue. Try again shortly.",
	},
	"media_retry": {
		"it": "Il collegamento audio e video non è partito: sei di nuovo in testa alla coda.",
		"de": "Die Audio- und Videoverbindung kam nicht zustande: Sie sind wieder an erster Stelle.",
		"en": "The audio and video connection did not start: you are back at the head of the queue.",
	},
	"operator_dropped": {
		"it": "L'operatore ha perso la connessione: sei di nuovo in testa alla coda.",
		"de": "Die Verbindung zur Mitarbeiterin oder zum Mitarbeiter ist abgebrochen: Sie sind wieder an erster Stelle.",
		"en": "The operator lost the connection: you are back at the head of the queue.",
	},
	"citizen_dropped": {
		"it": "La persona ha perso la connessione: resta in testa alla coda per 30 secondi.",
		"de": "Die Person hat die Verbindung verloren: Sie bleibt 30 Sekunden an erster Stelle.",
		"en": "The person lost the connection: they stay at the head of the queue for 30 seconds.",
	},
	"transferred": {
		"it": "Ti abbiamo passato a %s: sei in testa alla coda.",
		"de": "Sie wurden an %s weitergeleitet: Sie sind an erster Stelle.",
		"en": "You have been passed on to %s: you are at the head of the queue.",
	},
	"transferred_out": {
		"it": "Conversazione passata a %s.",
		"de": "Gespräch an %s weitergeleitet.",
		"en": "Call passed on to %s.",
	},
	"ended_operator": {
		"it": "L'operatore ha chiuso la conversazione. Grazie per aver usato lo sportello online.",
		"de": "Das Gespräch wurde beendet. Danke, dass Sie den Online-Schalter genutzt haben.",
		"en": "The operator ended the call. Thank you for using the online front desk.",
	},
	"ended_citizen": {
		"it": "La persona ha chiuso la conversazione.",
		"de": "Die Person hat das Gespräch beendet.",
		"en": "The person ended the call.",
	},
	"left": {
		"it": "Sei uscito dalla coda.",
		"de": "Sie haben die Warteschlange verlassen.",
		"en": "You left the queue.",
	},
	"timeout": {
		"it": "Sei stato fuori più di 30 secondi e hai perso il posto in coda. Puoi rientrare dalla pagina del servizio.",
		"de": "Sie waren länger als 30 Sekunden weg und haben Ihren Platz verloren. Sie können sich auf der Seite des Dienstes neu anstellen.",
		"en": "You were away for more than 30 seconds and lost your place. You can join again from the service page.",
	},
	"plugin": {
		"it": "Il servizio dello sportello online è stato riavviato e la conversazione si è interrotta. Scusaci: puoi rientrare in coda dalla pagina del servizio.",
		"de": "Der Online-Schalter wurde neu gestartet und das Gespräch unterbrochen. Entschuldigung: Sie können sich auf der Seite des Dienstes neu anstellen.",
		"en": "The online front desk service restarted and the call was cut off. Sorry: you can join the queue again from the service page.",
	},
	"plugin_operator": {
		"it": "Il servizio dello sportello online è stato riavviato: la conversazione è chiusa e la persona è stata avvisata.",
		"de": "Der Online-Schalter wurde neu gestartet: Das Gespräch ist beendet, die Person wurde informiert.",
		"en": "The online front desk service restarted: the call is over and the person has been told.",
	},
	"over": {
		"it": "Questa conversazione è conclusa.",
		"de": "Dieses Gespräch ist beendet.",
		"en": "This conversation is over.",
	},
	"replaced": {
		"it": "La conversazione è stata aperta in un'altra finestra.",
		"de": "Das Gespräch wurde in einem anderen Fenster geöffnet.",
		"en": "The conversation was opened in another window.",
	},
	"transcript": {
		"it": "Conversazione allo sportello online (%s) del %s: attesa %s, inizio %s, fine %s.",
		"de": "Gespräch am Online-Schalter (%s) vom %s: Wartezeit %s, Beginn %s, Ende %s.",
		"en": "Online front desk conversation (%s) of %s: waited %s, started %s, ended %s.",
	},
	"transcript_empty": {
		"it": "Nessun messaggio scritto.",
		"de": "Keine schriftlichen Nachrichten.",
		"en": "No written messages.",
	},
	"minutes":    {"it": "%d min", "de": "%d Min.", "en": "%d min"},
	"mode.video": {"it": "video", "de": "Video", "en": "video"},
	"mode.voice": {"it": "voce", "de": "Sprache", "en": "voice"},
	"mode.chat":  {"it": "chat", "de": "Chat", "en": "chat"},
}

// say is text key in lang (Italian when the language has none), with
// args filled in.
func say(lang, key string, args ...any) string {
	t, ok := texts[key]
	if !ok {
		return key
	}
	s, ok := t[lang]
	if !ok {
		s = t["it"]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}
