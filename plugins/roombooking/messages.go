package main

import "github.com/sportello/sportello/plugins/sdk"

// msg holds every text the service writes: answers to the person who
// books, to the office, replies on the dossier and e-mails. The booking
// engine's own refusals are worded by sdk.BookingRefusalText.
var msg = sdk.Messages{
	// The town's setup.
	"not_configured": {
		"it": "Il Comune non ha ancora messo online le sue sale. Rivolgiti all'ufficio che le gestisce.",
		"de": "Die Gemeinde hat ihre Räume noch nicht online gestellt. Wenden Sie sich an das zuständige Amt.",
		"en": "The town has not put its rooms online yet. Please contact the office that manages them.",
	},
	"misconfigured": {
		"it": "In questo momento non è possibile prenotare le sale online. Rivolgiti all'ufficio che le gestisce.",
		"de": "Die Räume können zurzeit nicht online reserviert werden. Wenden Sie sich an das zuständige Amt.",
		"en": "Rooms cannot be booked online at the moment. Please contact the office that manages them.",
	},
	"login": {
		"it": "Per prenotare una sala accedi con SPID o CIE.",
		"de": "Melden Sie sich mit SPID oder CIE an, um einen Raum zu reservieren.",
		"en": "Log in with SPID or CIE to book a room.",
	},
	"staff_only": {
		"it": "Solo il personale del Comune può decidere sulle prenotazioni.",
		"de": "Nur das Personal der Gemeinde entscheidet über Reservationen.",
		"en": "Only the town's staff decide on bookings.",
	},

	// Choosing the room and the people.
	"which_room": {
		"it": "Scrivi il nome di una delle sale del Comune: %s.",
		"de": "Geben Sie den Namen eines Raums der Gemeinde an: %s.",
		"en": "Write the name of one of the town's rooms: %s.",
	},
	"use_wedding_form": {
		"it": "«%s» è una sala per matrimoni e unioni civili: prenotala con il modulo per le cerimonie.",
		"de": "«%s» ist ein Raum für Trauungen und eingetragene Partnerschaften: Reservieren Sie ihn mit dem Formular für Zeremonien.",
		"en": "“%s” is a room for weddings and civil unions: book it with the ceremony form.",
	},
	"not_wedding_room": {
		"it": "«%s» non è una sala per cerimonie. Le sale per matrimoni e unioni civili sono: %s.",
		"de": "«%s» ist kein Raum für Zeremonien. Räume für Trauungen und Partnerschaften sind: %s.",
		"en": "“%s” is no ceremony room. The rooms for weddings and civil unions are: %s.",
	},
	"no_wedding_rooms": {
		"it": "Il Comune non ha sale per matrimoni e unioni civili da prenotare online: rivolgiti all'ufficio di stato civile.",
		"de": "Die Gemeinde hat keine Räume für Trauungen und Partnerschaften, die online reserviert werden können: Wenden Sie sich an das Zivilstandsamt.",
		"en": "The town has no rooms for weddings and civil unions to book online: please contact the registry office.",
	},
	"capacity": {
		"it": "La sala «%s» accoglie al massimo %d persone.",
		"de": "Der Raum «%s» fasst höchstens %d Personen.",
		"en": "The room “%s” holds at most %d people.",
	},
	"ceremony_not_offered": {
		"it": "Il Comune non celebra questo tipo di cerimonia: puoi scegliere %s.",
		"de": "Die Gemeinde führt diese Art von Zeremonie nicht durch: Möglich sind %s.",
		"en": "The town does not hold this kind of ceremony: you can choose %s.",
	},
	"contact_needed": {
		"it": "Quando prenoti per un'altra persona, indica il nome del referente e un telefono o un indirizzo e-mail.",
		"de": "Wenn Sie für eine andere Person reservieren, geben Sie den Namen der Kontaktperson und eine Telefonnummer oder E-Mail-Adresse an.",
		"en": "When you book for someone else, give the contact person's name and a phone number or an e-mail address.",
	},
	"taken": {
		"it": "In questo orario la sala «%s» è già occupata: scegli un altro orario o un'altra sala. Puoi vedere gli orari liberi con «Vedi le sale e gli orari liberi».",
		"de": "Der Raum «%s» ist zu dieser Zeit schon belegt: Wählen Sie eine andere Zeit oder einen anderen Raum. Die freien Zeiten sehen Sie unter «Räume und freie Zeiten ansehen».",
		"en": "The room “%s” is already taken at that time: choose another time or another room. You can see the free times with “See the rooms and free times”.",
	},
	"outside_hours": {
		"it": "A quell'ora la sala «%s» non è aperta: i suoi orari sono %s.",
		"de": "Zu dieser Zeit ist der Raum «%s» nicht geöffnet: Seine Öffnungszeiten sind %s.",
		"en": "The room “%s” is not open at that time: its hours are %s.",
	},
	"off_grid": {
		"it": "Le fasce orarie della sala «%s» durano %d minuti a partire dall'apertura (%s): scegli l'ora d'inizio di una fascia.",
		"de": "Die Zeitfenster des Raums «%s» dauern %d Minuten ab der Öffnung (%s): Wählen Sie den Beginn eines Zeitfensters.",
		"en": "The time slots of the room “%s” last %d minutes from opening time (%s): choose the start of a slot.",
	},
	"run_too_long": {
		"it": "%d fasce consecutive non stanno nell'orario della sala: la fascia delle %s non è prenotabile. Prenota meno fasce o comincia prima.",
		"de": "%d aufeinanderfolgende Zeitfenster passen nicht in die Öffnungszeiten des Raums: Das Zeitfenster um %s ist nicht buchbar. Buchen Sie weniger Zeitfenster oder beginnen Sie früher.",
		"en": "%d consecutive slots do not fit the room's hours: the slot at %s cannot be booked. Book fewer slots or start earlier.",
	},

	// Ceremonies.
	"ceremony.civil_wedding": {"it": "Matrimonio civile", "de": "Ziviltrauung", "en": "Civil wedding"},
	"ceremony.civil_union":   {"it": "Unione civile", "de": "Eingetragene Partnerschaft", "en": "Civil union"},
	"ceremony.vow_renewal":   {"it": "Rinnovo delle promesse", "de": "Erneuerung des Eheversprechens", "en": "Renewal of vows"},
	"or":                     {"it": "o", "de": "oder", "en": "or"},

	// The booking made.
	"title_room": {
		"it": "Prenotazione %s, %s %s–%s",
		"de": "Reservation %s, %s %s–%s",
		"en": "Booking of %s, %s %s–%s",
	},
	"title_wedding": {
		"it": "%s: %s, %s ore %s",
		"de": "%s: %s, %s um %s",
		"en": "%s: %s, %s at %s",
	},
	"booked": {
		"it": "La sala «%s» è prenotata per te il giorno %s dalle %s alle %s. Codice di prenotazione %s, pratica n. %s.",
		"de": "Der Raum «%s» ist für Sie reserviert am %s von %s bis %s Uhr. Reservationscode %s, Vorgang Nr. %s.",
		"en": "The room “%s” is booked for you on %s from %s to %s. Booking code %s, case no. %s.",
	},
	"wedding_booked": {
		"it": "%s nella sala «%s» il giorno %s alle %s: la data è riservata per voi. Codice di prenotazione %s, pratica n. %s.",
		"de": "%s im Raum «%s» am %s um %s Uhr: Der Termin ist für Sie reserviert. Reservationscode %s, Vorgang Nr. %s.",
		"en": "%s in the room “%s” on %s at %s: the date is reserved for you. Booking code %s, case no. %s.",
	},
	"free": {
		"it": "La sala è gratuita: non devi pagare nulla.",
		"de": "Der Raum ist kostenlos: Sie müssen nichts bezahlen.",
		"en": "The room is free of charge: there is nothing to pay.",
	},
	"pay_now": {
		"it": "Per confermare la prenotazione paga %s entro il giorno %s con l'avviso pagoPA n. %s, che trovi tra i tuoi pagamenti: dopo, la sala torna libera.",
		"de": "Zur Bestätigung bezahlen Sie %s bis %s mit der pagoPA-Zahlungsaufforderung Nr. %s, die Sie unter Ihren Zahlungen finden; danach wird der Raum wieder frei.",
		"en": "To confirm the booking, pay %s by %s with pagoPA payment notice no. %s, which you find among your payments; after that the room is free again.",
	},
	"approval_after_payment": {
		"it": "Dopo il pagamento la prenotazione passa all'ufficio che gestisce la sala, che la approva: riceverai la risposta nella pratica.",
		"de": "Nach der Zahlung geht die Reservation an das für den Raum zuständige Amt, das sie genehmigt: Sie erhalten die Antwort im Vorgang.",
		"en": "Once paid, the booking goes to the office that manages the room for approval: you will get the answer in the case.",
	},
	"pending": {
		"it": "La prenotazione attende l'approvazione dell'ufficio che gestisce la sala: riceverai la risposta nella pratica.",
		"de": "Die Reservation wartet auf die Genehmigung des für den Raum zuständigen Amtes: Sie erhalten die Antwort im Vorgang.",
		"en": "The booking awaits approval by the office that manages the room: you will get the answer in the case.",
	},
	"pay_after": {
		"it": "Se la prenotazione viene approvata, ti chiederemo di pagare %s.",
		"de": "Wird die Reservation genehmigt, bitten wir Sie, %s zu bezahlen.",
		"en": "If the booking is approved, you will be asked to pay %s.",
	},
	"cancel_until": {
		"it": "Puoi annullarla con il codice fino al giorno %s.",
		"de": "Sie können sie mit dem Code bis %s stornieren.",
		"en": "You can cancel it with the code until %s.",
	},
	"reason": {
		"it": "Sala %s, %s, prenotazione %s",
		"de": "Raum %s, %s, Reservation %s",
		"en": "Room %s, %s, booking %s",
	},
	"mail_subject": {
		"it": "Prenotazione sala, pratica n. %s",
		"de": "Raumreservation, Vorgang Nr. %s",
		"en": "Room booking, case no. %s",
	},
	"manager_subject": {
		"it": "Prenotazione da approvare: %s, pratica n. %s",
		"de": "Zu genehmigende Reservation: %s, Vorgang Nr. %s",
		"en": "Booking to approve: %s, case no. %s",
	},
	"manager_body": {
		"it": "È stata chiesta la sala «%s» il giorno %s dalle %s alle %s (prenotazione %s). Approvala o rifiutala dal back office, pratica n. %s.",
		"de": "Der Raum «%s» wurde für den %s von %s bis %s Uhr angefragt (Reservation %s). Genehmigen oder lehnen Sie sie im Backoffice ab, Vorgang Nr. %s.",
		"en": "The room “%s” has been requested on %s from %s to %s (booking %s). Approve or decline it in the back office, case no. %s.",
	},

	// Cancelling by code.
	"no_booking": {
		"it": "Non troviamo una tua prenotazione con il codice %s: controllalo nella conferma che hai ricevuto.",
		"de": "Wir finden keine Reservation von Ihnen mit dem Code %s: Prüfen Sie ihn in der erhaltenen Bestätigung.",
		"en": "We find no booking of yours with the code %s: check it in the confirmation you received.",
	},
	"already_cancelled": {
		"it": "La prenotazione %s non è più attiva: è già stata annullata o non è stata pagata in tempo.",
		"de": "Die Reservation %s ist nicht mehr gültig: Sie wurde bereits storniert oder nicht rechtzeitig bezahlt.",
		"en": "The booking %s is no longer active: it was already cancelled or not paid in time.",
	},
	"cancelled": {
		"it": "La prenotazione %s della sala «%s» del giorno %s è annullata: la sala è di nuovo libera.",
		"de": "Die Reservation %s des Raums «%s» am %s ist storniert: Der Raum ist wieder frei.",
		"en": "The booking %s of the room “%s” on %s is cancelled: the room is free again.",
	},
	"refund": {
		"it": "Se avevi già pagato, l'ufficio ti contatterà per il rimborso.",
		"de": "Falls Sie bereits bezahlt haben, meldet sich das Amt wegen der Rückerstattung.",
		"en": "If you had already paid, the office will contact you about the refund.",
	},
	"cancel_followup": {
		"it": "Ho annullato online la prenotazione %s. %s",
		"de": "Ich habe die Reservation %s online storniert. %s",
		"en": "I cancelled the booking %s online. %s",
	},
	"cancel_subject": {
		"it": "Prenotazione %s annullata",
		"de": "Reservation %s storniert",
		"en": "Booking %s cancelled",
	},

	// The office's decisions.
	"no_booking_here": {
		"it": "Questa pratica non contiene una prenotazione di sala.",
		"de": "Dieser Vorgang enthält keine Raumreservation.",
		"en": "This case holds no room booking.",
	},
	"not_paid_yet": {
		"it": "La prenotazione %s non è ancora pagata: potrai approvarla dopo il pagamento.",
		"de": "Die Reservation %s ist noch nicht bezahlt: Sie können sie nach der Zahlung genehmigen.",
		"en": "The booking %s is not paid yet: you can approve it once it is paid.",
	},
	"gone": {
		"it": "La prenotazione %s non è più attiva (%s): la pratica è aggiornata.",
		"de": "Die Reservation %s ist nicht mehr gültig (%s): Der Vorgang ist aktualisiert.",
		"en": "The booking %s is no longer active (%s): the case has been updated.",
	},
	"already_approved": {
		"it": "La prenotazione %s è già approvata: ora è %s.",
		"de": "Die Reservation %s ist bereits genehmigt: Sie ist jetzt %s.",
		"en": "The booking %s is already approved: it is now %s.",
	},
	"approved": {
		"it": "Prenotazione %s approvata: la sala è confermata.",
		"de": "Reservation %s genehmigt: Der Raum ist bestätigt.",
		"en": "Booking %s approved: the room is confirmed.",
	},
	"approved_pay": {
		"it": "Prenotazione %s approvata: al richiedente è chiesto di pagare %s entro il giorno %s.",
		"de": "Reservation %s genehmigt: Die antragstellende Person muss %s bis %s bezahlen.",
		"en": "Booking %s approved: the applicant is asked to pay %s by %s.",
	},
	"reply_approved": {
		"it": "La tua prenotazione %s della sala «%s» del giorno %s è approvata. %s",
		"de": "Ihre Reservation %s des Raums «%s» am %s ist genehmigt. %s",
		"en": "Your booking %s of the room “%s” on %s is approved. %s",
	},
	"reply_approved_pay": {
		"it": "La tua prenotazione %s della sala «%s» del giorno %s è approvata. Per confermarla paga %s entro il giorno %s con l'avviso pagoPA n. %s, che trovi tra i tuoi pagamenti: senza pagamento la prenotazione viene annullata. %s",
		"de": "Ihre Reservation %s des Raums «%s» am %s ist genehmigt. Zur Bestätigung bezahlen Sie %s bis %s mit der pagoPA-Zahlungsaufforderung Nr. %s, die Sie unter Ihren Zahlungen finden; ohne Zahlung wird die Reservation storniert. %s",
		"en": "Your booking %s of the room “%s” on %s is approved. To confirm it, pay %s by %s with pagoPA payment notice no. %s, which you find among your payments; without payment the booking is cancelled. %s",
	},
	"declined": {
		"it": "Prenotazione %s rifiutata: la sala è di nuovo libera.",
		"de": "Reservation %s abgelehnt: Der Raum ist wieder frei.",
		"en": "Booking %s declined: the room is free again.",
	},
	"revoked": {
		"it": "Prenotazione %s annullata: la sala è di nuovo libera.",
		"de": "Reservation %s storniert: Der Raum ist wieder frei.",
		"en": "Booking %s cancelled: the room is free again.",
	},
	"refund_due": {
		"it": "Il richiedente aveva già pagato %s: disponi il rimborso.",
		"de": "Die antragstellende Person hatte bereits %s bezahlt: Veranlassen Sie die Rückerstattung.",
		"en": "The applicant had already paid %s: arrange the refund.",
	},
	"reply_declined": {
		"it": "La tua prenotazione %s della sala «%s» del giorno %s non è stata accolta: %s",
		"de": "Ihre Reservation %s des Raums «%s» am %s wurde nicht genehmigt: %s",
		"en": "Your booking %s of the room “%s” on %s was not approved: %s",
	},
	"reply_revoked": {
		"it": "Il Comune ha annullato la tua prenotazione %s della sala «%s» del giorno %s: %s",
		"de": "Die Gemeinde hat Ihre Reservation %s des Raums «%s» am %s storniert: %s",
		"en": "The town has cancelled your booking %s of the room “%s” on %s: %s",
	},
	"reply_refund": {
		"it": "Ti restituiremo quanto hai pagato.",
		"de": "Wir erstatten Ihnen den bezahlten Betrag zurück.",
		"en": "We will refund what you paid.",
	},
	"payment_followed": {
		"it": "La prenotazione %s è %s.",
		"de": "Die Reservation %s ist %s.",
		"en": "The booking %s is %s.",
	},
	"not_this_payment": {
		"it": "Il pagamento %d non è quello che la pratica n. %s attende.",
		"de": "Die Zahlung %d ist nicht die, auf die Vorgang Nr. %s wartet.",
		"en": "Payment %d is not the one case no. %s is waiting for.",
	},
	"reply_paid_confirmed": {
		"it": "Abbiamo ricevuto il pagamento di %s: la tua prenotazione %s della sala «%s» del giorno %s è confermata.",
		"de": "Wir haben Ihre Zahlung von %s erhalten: Ihre Reservation %s des Raums «%s» am %s ist bestätigt.",
		"en": "We have received your payment of %s: your booking %s of the room “%s” on %s is confirmed.",
	},
	"reply_paid_pending": {
		"it": "Abbiamo ricevuto il pagamento di %s per la prenotazione %s della sala «%s» del giorno %s. Ora la prenotazione attende l'approvazione dell'ufficio, che ti scriverà appena avrà deciso.",
		"de": "Wir haben Ihre Zahlung von %s für die Reservation %s des Raums «%s» am %s erhalten. Nun wartet die Reservation auf die Genehmigung des Amts, das Ihnen schreibt, sobald es entschieden hat.",
		"en": "We have received your payment of %s for booking %s of the room “%s” on %s. The booking now awaits the office's approval: they will write to you as soon as they have decided.",
	},
	"reply_payment_failed": {
		"it": "Il pagamento della prenotazione %s non è andato a buon fine e non ti è stato addebitato nulla. Puoi riprovare dalla tua area personale, con l'avviso pagoPA n. %s, entro il giorno %s: dopo, la sala torna libera.",
		"de": "Die Zahlung der Reservation %s ist fehlgeschlagen; es wurde nichts abgebucht. Sie können es in Ihrem persönlichen Bereich erneut versuchen, mit der pagoPA-Zahlungsaufforderung Nr. %s, bis zum %s: danach wird der Raum wieder frei.",
		"en": "The payment for booking %s did not go through and nothing was charged. You can try again from your personal area, with pagoPA notice no. %s, until %s: after that the room is free again.",
	},
	"reply_payment_expired": {
		"it": "Il pagamento della prenotazione %s non è arrivato in tempo: la sala «%s» del giorno %s è di nuovo libera. Se ti serve ancora, prenotala di nuovo.",
		"de": "Die Zahlung der Reservation %s ist nicht rechtzeitig eingegangen: der Raum «%s» am %s ist wieder frei. Wenn Sie ihn noch brauchen, reservieren Sie ihn erneut.",
		"en": "The payment for booking %s did not arrive in time: the room “%s” on %s is free again. If you still need it, book it again.",
	},
	"status_note": {
		"it": "Prenotazione %s: %s.",
		"de": "Reservation %s: %s.",
		"en": "Booking %s: %s.",
	},
	"state.held":      {"it": "in attesa di pagamento", "de": "wartet auf die Zahlung", "en": "awaiting payment"},
	"state.pending":   {"it": "in attesa di approvazione", "de": "wartet auf die Genehmigung", "en": "awaiting approval"},
	"state.confirmed": {"it": "confermata", "de": "bestätigt", "en": "confirmed"},
	"state.cancelled": {"it": "annullata", "de": "storniert", "en": "cancelled"},
	"state.expired":   {"it": "scaduta perché non pagata in tempo", "de": "verfallen, weil nicht rechtzeitig bezahlt", "en": "expired, as it was not paid in time"},
	"state.approved_unpaid": {
		"it": "approvata, in attesa di pagamento",
		"de": "genehmigt, wartet auf die Zahlung",
		"en": "approved, awaiting payment",
	},

	// The rooms and their free times.
	"room_line": {
		"it": "%s (codice %s): fino a %d persone",
		"de": "%s (Code %s): bis %d Personen",
		"en": "%s (code %s): up to %d people",
	},
	"equipment": {"it": "dotazioni: %s", "de": "Ausstattung: %s", "en": "equipment: %s"},
	"opening":   {"it": "orari: %s", "de": "Öffnungszeiten: %s", "en": "hours: %s"},
	"slot_price": {
		"it": "fasce da %d minuti, %s l'una",
		"de": "Zeitfenster zu %d Minuten, je %s",
		"en": "slots of %d minutes, %s each",
	},
	"slot_free": {
		"it": "fasce da %d minuti, gratuita",
		"de": "Zeitfenster zu %d Minuten, kostenlos",
		"en": "slots of %d minutes, free of charge",
	},
	"needs_approval": {
		"it": "le prenotazioni vanno approvate dall'ufficio",
		"de": "Reservationen werden vom Amt genehmigt",
		"en": "bookings are approved by the office",
	},
	"for_weddings": {
		"it": "per matrimoni e unioni civili",
		"de": "für Trauungen und eingetragene Partnerschaften",
		"en": "for weddings and civil unions",
	},
	"photos": {"it": "foto: %s", "de": "Fotos: %s", "en": "photos: %s"},
	"free_times": {
		"it": "Orari liberi della sala «%s» il giorno %s: %s (fasce da %d minuti).",
		"de": "Freie Zeiten des Raums «%s» am %s: %s (Zeitfenster zu %d Minuten).",
		"en": "Free times of the room “%s” on %s: %s (slots of %d minutes).",
	},
	"no_free_times": {
		"it": "La sala «%s» non ha orari liberi il giorno %s.",
		"de": "Der Raum «%s» hat am %s keine freien Zeiten.",
		"en": "The room “%s” has no free times on %s.",
	},
	"next_days": {
		"it": "Giorni con orari liberi nelle prossime settimane: %s.",
		"de": "Tage mit freien Zeiten in den nächsten Wochen: %s.",
		"en": "Days with free times in the coming weeks: %s.",
	},
	"no_next_days": {
		"it": "Nelle prossime settimane la sala non ha orari liberi.",
		"de": "In den nächsten Wochen hat der Raum keine freien Zeiten.",
		"en": "The room has no free times in the coming weeks.",
	},
}
