package main

import "github.com/sportello/sportello/plugins/sdk"

// msg holds every text the service writes: the answers to the citizen and
// to the office, the replies on the dossier, and the concession deed.
var msg = sdk.Messages{
	"place.niche":   {"it": "loculo", "de": "Grabnische", "en": "niche"},
	"place.tomb":    {"it": "tomba di famiglia", "de": "Familiengrab", "en": "family tomb"},
	"place.ground":  {"it": "posto a terra", "de": "Erdgrab", "en": "ground plot"},
	"place.ossuary": {"it": "celletta ossario", "de": "Ossariumsnische", "en": "ossuary niche"},

	"status.submitted":        {"it": "inviata", "de": "eingereicht", "en": "submitted"},
	"status.approved":         {"it": "approvata", "de": "genehmigt", "en": "approved"},
	"status.rejected":         {"it": "respinta", "de": "abgelehnt", "en": "rejected"},
	"status.awaiting_payment": {"it": "in attesa di pagamento", "de": "wartet auf die Zahlung", "en": "awaiting payment"},
	"status.paid":             {"it": "pagata", "de": "bezahlt", "en": "paid"},
	"status.issued":           {"it": "concessione rilasciata", "de": "Konzession erteilt", "en": "concession issued"},

	// The citizen's request.
	"not_configured": {
		"it": "Il Comune non ha ancora attivato le richieste online di concessione. Rivolgiti all'ufficio servizi cimiteriali.",
		"de": "Die Gemeinde nimmt Konzessionsanträge noch nicht online entgegen. Wenden Sie sich an das Friedhofsamt.",
		"en": "The town does not take concession requests online yet. Please contact the cemetery services office.",
	},
	"login": {
		"it": "Per chiedere una concessione accedi con SPID o CIE.",
		"de": "Melden Sie sich mit SPID oder CIE an, um eine Konzession zu beantragen.",
		"en": "Log in with SPID or CIE to apply for a concession.",
	},
	"which_cemetery": {
		"it": "Scrivi il nome del cimitero: %s.",
		"de": "Geben Sie den Namen des Friedhofs an: %s.",
		"en": "Write the cemetery's name: %s.",
	},
	"not_offered": {
		"it": "In questo momento il Comune non concede il tipo di sepoltura «%s».",
		"de": "Die Gemeinde vergibt die Grabart «%s» zurzeit nicht.",
		"en": "The town does not grant the type of place “%s” at the moment.",
	},
	"years": {
		"it": "Per «%s» puoi scegliere una durata di %s anni.",
		"de": "Für «%s» sind Laufzeiten von %s Jahren möglich.",
		"en": "For “%s” you can choose %s years.",
	},
	"or": {"it": "o", "de": "oder", "en": "or"},
	"born_future": {
		"it": "La data di nascita non può essere nel futuro.",
		"de": "Das Geburtsdatum kann nicht in der Zukunft liegen.",
		"en": "The date of birth cannot be in the future.",
	},
	"death_future": {
		"it": "La data di morte non può essere nel futuro.",
		"de": "Das Sterbedatum kann nicht in der Zukunft liegen.",
		"en": "The date of death cannot be in the future.",
	},
	"death_before_birth": {
		"it": "La data di morte è precedente alla data di nascita.",
		"de": "Das Sterbedatum liegt vor dem Geburtsdatum.",
		"en": "The date of death is before the date of birth.",
	},
	"only_one": {
		"it": "«%s» accoglie una sola persona: per altre persone scegli una tomba di famiglia.",
		"de": "«%s» nimmt nur eine Person auf: Für weitere Personen wählen Sie ein Familiengrab.",
		"en": "“%s” holds one person only: for more people choose a family tomb.",
	},
	"too_many": {
		"it": "«%s» accoglie al massimo %d persone: ne hai indicate %d.",
		"de": "«%s» nimmt höchstens %d Personen auf; Sie haben %d genannt.",
		"en": "“%s” holds at most %d people; you named %d.",
	},
	"title": {
		"it": "Concessione %s, %d anni – %s",
		"de": "Konzession %s, %d Jahre – %s",
		"en": "Concession: %s, %d years – %s",
	},
	"received": {
		"it": "Abbiamo ricevuto la tua richiesta, pratica n. %s. La tariffa per %s per %d anni è di %s. L'ufficio verifica la richiesta e, se la approva, ti manda l'avviso di pagamento pagoPA; dopo il pagamento ricevi l'atto di concessione firmato digitalmente.",
		"de": "Wir haben Ihren Antrag erhalten, Vorgang Nr. %s. Die Gebühr für %s für %d Jahre beträgt %s. Das Amt prüft den Antrag und sendet Ihnen nach der Genehmigung die pagoPA-Zahlungsaufforderung; nach der Zahlung erhalten Sie die digital signierte Konzessionsurkunde.",
		"en": "We have received your request, case no. %s. The fee for a %s for %d years is %s. The office checks the request and, once it approves it, sends you the pagoPA payment notice; after payment you receive the digitally signed concession deed.",
	},
	"mail_subject": {
		"it": "Concessione cimiteriale, pratica n. %s",
		"de": "Grabkonzession, Vorgang Nr. %s",
		"en": "Cemetery concession, case no. %s",
	},

	// The office's decisions.
	"staff_only": {
		"it": "Questa operazione è riservata all'ufficio.",
		"de": "Dieser Schritt ist dem Amt vorbehalten.",
		"en": "This step is for the office only.",
	},
	"wrong_status": {
		"it": "La pratica n. %s è %s: questa operazione non è possibile.",
		"de": "Der Vorgang Nr. %s ist %s: Dieser Schritt ist nicht möglich.",
		"en": "Case no. %s is %s: this step is not possible.",
	},
	"reason": {
		"it": "Concessione cimiteriale %s %d anni, pratica %s",
		"de": "Grabkonzession %s %d Jahre, Vorgang %s",
		"en": "Cemetery concession %s %d years, case %s",
	},
	"approved_note": {
		"it": "Richiesta approvata. %s",
		"de": "Antrag genehmigt. %s",
		"en": "Request approved. %s",
	},
	"reply_pay": {
		"it": "La tua richiesta di concessione (pratica n. %s) è stata approvata. Paga %s con l'avviso pagoPA n. %s, che trovi nella tua area personale. Dopo il pagamento l'ufficio assegna il posto e ti manda l'atto di concessione firmato digitalmente. %s",
		"de": "Ihr Konzessionsantrag (Vorgang Nr. %s) wurde genehmigt. Bezahlen Sie %s mit der pagoPA-Zahlungsaufforderung Nr. %s in Ihrem persönlichen Bereich. Nach der Zahlung weist das Amt den Platz zu und sendet Ihnen die digital signierte Konzessionsurkunde. %s",
		"en": "Your concession request (case no. %s) has been approved. Pay %s with pagoPA payment notice no. %s, in your personal area. After payment the office assigns the place and sends you the digitally signed concession deed. %s",
	},
	"reply_free": {
		"it": "La tua richiesta di concessione (pratica n. %s) è stata approvata; non c'è nulla da pagare. L'ufficio assegna il posto e ti manda l'atto di concessione firmato digitalmente. %s",
		"de": "Ihr Konzessionsantrag (Vorgang Nr. %s) wurde genehmigt; es ist nichts zu bezahlen. Das Amt weist den Platz zu und sendet Ihnen die digital signierte Konzessionsurkunde. %s",
		"en": "Your concession request (case no. %s) has been approved; there is nothing to pay. The office assigns the place and sends you the digitally signed concession deed. %s",
	},
	"approved_pay": {
		"it": "Pratica n. %s approvata: chiesto il pagamento di %s (avviso pagoPA n. %s). Il cittadino ha ricevuto la risposta.",
		"de": "Vorgang Nr. %s genehmigt: Zahlung von %s verlangt (pagoPA-Zahlungsaufforderung Nr. %s). Die Person hat die Antwort erhalten.",
		"en": "Case no. %s approved: payment of %s requested (pagoPA notice no. %s). The citizen has been answered.",
	},
	"approved_free": {
		"it": "Pratica n. %s approvata senza importo da pagare: puoi rilasciare la concessione.",
		"de": "Vorgang Nr. %s ohne zu zahlenden Betrag genehmigt: Sie können die Konzession erteilen.",
		"en": "Case no. %s approved with nothing to pay: you can issue the concession.",
	},
	"nothing_due": {
		"it": "Nessun importo da pagare.",
		"de": "Kein Betrag zu bezahlen.",
		"en": "Nothing to pay.",
	},
	"payment_note": {
		"it": "Avviso pagoPA n. %s di %s",
		"de": "pagoPA-Zahlungsaufforderung Nr. %s über %s",
		"en": "pagoPA notice no. %s for %s",
	},
	"reply_rejected": {
		"it": "La tua richiesta di concessione (pratica n. %s) è stata respinta. Motivo: %s Per chiarimenti rivolgiti all'ufficio servizi cimiteriali.",
		"de": "Ihr Konzessionsantrag (Vorgang Nr. %s) wurde abgelehnt. Begründung: %s Für Fragen wenden Sie sich an das Friedhofsamt.",
		"en": "Your concession request (case no. %s) has been rejected. Reason: %s For any questions, contact the cemetery services office.",
	},
	"rejected": {
		"it": "Pratica n. %s respinta; il cittadino ha ricevuto il motivo.",
		"de": "Vorgang Nr. %s abgelehnt; die Person hat die Begründung erhalten.",
		"en": "Case no. %s rejected; the citizen has been told why.",
	},
	"no_payment": {
		"it": "Per la pratica n. %s non risulta un avviso di pagamento: approvala prima di rilasciare la concessione.",
		"de": "Für den Vorgang Nr. %s gibt es keine Zahlungsaufforderung: Genehmigen Sie ihn, bevor Sie die Konzession erteilen.",
		"en": "Case no. %s has no payment notice: approve it before issuing the concession.",
	},
	"not_paid": {
		"it": "Il pagamento della pratica n. %s non è ancora completato (stato pagoPA: %s). Rilascia la concessione dopo il pagamento.",
		"de": "Die Zahlung zum Vorgang Nr. %s ist noch nicht abgeschlossen (pagoPA-Status: %s). Erteilen Sie die Konzession nach der Zahlung.",
		"en": "The payment for case no. %s is not complete yet (pagoPA status: %s). Issue the concession once it is paid.",
	},
	"paid_note": {
		"it": "Pagamento completato (avviso pagoPA n. %s).",
		"de": "Zahlung abgeschlossen (pagoPA-Zahlungsaufforderung Nr. %s).",
		"en": "Payment complete (pagoPA notice no. %s).",
	},

	// The payment's outcome, as the host tells it.
	"reply_paid": {
		"it": "Abbiamo ricevuto il pagamento di %[2]s per la tua richiesta di concessione (pratica n. %[1]s). Ora l'ufficio assegna il posto e ti manda l'atto di concessione firmato digitalmente: lo troverai tra i documenti della pratica.",
		"de": "Wir haben Ihre Zahlung von %[2]s für Ihren Konzessionsantrag (Vorgang Nr. %[1]s) erhalten. Nun weist das Amt den Platz zu und sendet Ihnen die digital signierte Konzessionsurkunde: Sie finden sie bei den Dokumenten des Vorgangs.",
		"en": "We have received your payment of %[2]s for your concession request (case no. %[1]s). The office now assigns the place and sends you the digitally signed concession deed: you will find it among the case's documents.",
	},
	"reply_payment_failed": {
		"it": "Il pagamento per la pratica n. %s non è andato a buon fine e non ti è stato addebitato nulla. Puoi riprovare dalla tua area personale, con lo stesso avviso pagoPA n. %s.",
		"de": "Die Zahlung zum Vorgang Nr. %s ist fehlgeschlagen; es wurde nichts abgebucht. Sie können es in Ihrem persönlichen Bereich erneut versuchen, mit derselben pagoPA-Zahlungsaufforderung Nr. %s.",
		"en": "The payment for case no. %s did not go through and nothing was charged. You can try again from your personal area, with the same pagoPA notice no. %s.",
	},
	"reply_payment_expired": {
		"it": "L'avviso pagoPA n. %[2]s per la pratica n. %[1]s è scaduto senza essere pagato. Contatta l'ufficio servizi cimiteriali per ricevere un nuovo avviso e completare la concessione.",
		"de": "Die pagoPA-Zahlungsaufforderung Nr. %[2]s zum Vorgang Nr. %[1]s ist unbezahlt abgelaufen. Wenden Sie sich an das Friedhofsamt, um eine neue Zahlungsaufforderung zu erhalten und die Konzession abzuschließen.",
		"en": "pagoPA notice no. %[2]s for case no. %[1]s expired unpaid. Contact the cemetery services office to receive a new notice and complete the concession.",
	},
	"payment_noted": {
		"it": "Esito del pagamento %d della pratica n. %s registrato.",
		"de": "Ergebnis der Zahlung %d zum Vorgang Nr. %s erfasst.",
		"en": "Outcome of payment %d of case no. %s recorded.",
	},
	"not_this_payment": {
		"it": "Il pagamento %d non è quello che la pratica n. %s attende.",
		"de": "Die Zahlung %d ist nicht die, auf die Vorgang Nr. %s wartet.",
		"en": "Payment %d is not the one case no. %s is waiting for.",
	},
	"start_before": {
		"it": "La concessione non può iniziare prima della richiesta (%s).",
		"de": "Die Konzession kann nicht vor dem Antrag beginnen (%s).",
		"en": "The concession cannot start before the request (%s).",
	},
	"issued_note": {
		"it": "Concessione rilasciata: %s, dal %s al %s.",
		"de": "Konzession erteilt: %s, vom %s bis %s.",
		"en": "Concession issued: %s, from %s to %s.",
	},
	"reply_issued": {
		"it": "La tua concessione (pratica n. %s) è stata rilasciata: %s, %s, dal %s al %s. Trovi l'atto di concessione, firmato digitalmente dal Comune, tra i documenti della pratica.",
		"de": "Ihre Konzession (Vorgang Nr. %s) wurde erteilt: %s, %s, vom %s bis %s. Die von der Gemeinde digital signierte Konzessionsurkunde finden Sie bei den Dokumenten des Vorgangs.",
		"en": "Your concession (case no. %s) has been issued: %s, %s, from %s to %s. You find the concession deed, digitally signed by the town, among the case's documents.",
	},
	"issued": {
		"it": "Concessione della pratica n. %s rilasciata: l'atto firmato digitalmente (%s) è nella pratica e il cittadino ha ricevuto la risposta.",
		"de": "Konzession zum Vorgang Nr. %s erteilt: Die digital signierte Urkunde (%s) liegt beim Vorgang, die Person hat die Antwort erhalten.",
		"en": "Concession of case no. %s issued: the digitally signed deed (%s) is on the case and the citizen has been answered.",
	},

	// The concession deed.
	"deed.file":         {"it": "concessione-%s.pdf", "de": "konzession-%s.pdf", "en": "concession-%s.pdf"},
	"deed.title":        {"it": "Atto di concessione cimiteriale", "de": "Grabkonzessionsurkunde", "en": "Cemetery concession deed"},
	"deed.number":       {"it": "Pratica n. %s", "de": "Vorgang Nr. %s", "en": "Case no. %s"},
	"deed.holder":       {"it": "Concessionario", "de": "Konzessionsinhaber/in", "en": "Concession holder"},
	"deed.cemetery":     {"it": "Cimitero", "de": "Friedhof", "en": "Cemetery"},
	"deed.place":        {"it": "Tipo di sepoltura", "de": "Grabart", "en": "Type of place"},
	"deed.assigned":     {"it": "Posto assegnato", "de": "Zugewiesener Platz", "en": "Place assigned"},
	"deed.term":         {"it": "Durata", "de": "Dauer", "en": "Term"},
	"deed.term_value":   {"it": "%d anni, dal %s al %s", "de": "%d Jahre, vom %s bis %s", "en": "%d years, from %s to %s"},
	"deed.people":       {"it": "Persone a cui è destinata", "de": "Bestimmt für", "en": "Meant for"},
	"deed.fee":          {"it": "Tariffa", "de": "Gebühr", "en": "Fee"},
	"deed.fee_paid":     {"it": "%s, pagata con l'avviso pagoPA n. %s", "de": "%s, bezahlt mit der pagoPA-Zahlungsaufforderung Nr. %s", "en": "%s, paid with pagoPA notice no. %s"},
	"deed.fee_none":     {"it": "nessun importo dovuto", "de": "kein Betrag geschuldet", "en": "nothing due"},
	"deed.relationship": {"it": "Legame dichiarato", "de": "Angegebene Beziehung", "en": "Stated relationship"},
	"deed.terms": {
		"it": "La concessione dà il diritto di usare il posto per la durata indicata; il posto resta di proprietà del Comune. La concessione non si può vendere né cedere. Se il posto non è più usato o non viene curato, il Comune può revocarla come previsto dal regolamento cimiteriale.",
		"de": "Die Konzession gibt das Recht, den Platz für die angegebene Dauer zu nutzen; der Platz bleibt Eigentum der Gemeinde. Die Konzession kann weder verkauft noch übertragen werden. Wird der Platz nicht mehr genutzt oder nicht gepflegt, kann die Gemeinde sie nach dem Friedhofsreglement widerrufen.",
		"en": "The concession gives the right to use the place for the term stated; the place remains the town's property. The concession cannot be sold or transferred. If the place is no longer used or cared for, the town can revoke it as its cemetery rules provide.",
	},
	"deed.issued_on": {"it": "Rilasciato il %s", "de": "Ausgestellt am %s", "en": "Issued on %s"},
	"deed.signed": {
		"it": "Documento firmato digitalmente dal Comune: la firma si verifica con qualsiasi lettore PDF.",
		"de": "Von der Gemeinde digital signiertes Dokument: Die Signatur lässt sich mit jedem PDF-Leser prüfen.",
		"en": "Document digitally signed by the town: any PDF reader can check the signature.",
	},
}
