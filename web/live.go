package web

import "time"

// LiveCall is the Data of template "live_call": a citizen's place in the
// queue of the online counter and then the call itself. The page works from
// what it renders here; static/js/live.js then follows the WebSocket at
// WSURL, which updates the position and brings the call.
type LiveCall struct {
	Entry         int64
	ServiceName   string // "Sportello online"
	DeskName      string
	Mode          string // video, voice, chat
	Topic         string
	DossierNumber string
	Status        string // waiting, in_call, ended, left
	Position      int    // as rendered server-side (the socket updates it); 0 hides it
	WSURL         string // path of the WebSocket, e.g. /t/lugano/live/12/ws
	FilesURL      string // POST target for documents
	ICEServers    string // JSON array for RTCPeerConnection({iceServers}); "[]" when none
	Transcript    []LiveMessage
	LeaveURL      string // POST form target to leave the queue without JavaScript
	BackURL       string // "my requests"
}

// LiveMessage is one line of a call's chat, already written by a person
// (From is "operator", "citizen" or "system").
type LiveMessage struct {
	From, Name, Text string
	At               time.Time
}

// LiveConsole is the Data of template "live_console": the operator's
// console. The queue, the colleagues and the call come over the WebSocket;
// Desks and Status are what the page shows before the first message.
type LiveConsole struct {
	WSURL      string
	ICEServers string
	Status     string // available, away
	Desks      []LiveDesk
	// PaymentURL is the POST target of the payment form, with the literal
	// text {entry} where the script puts the call's entry:
	// "/t/lugano/backoffice/live/{entry}/payment".
	PaymentURL string
	FilesURL   string // same pattern with {entry}, for uploads
	IntakeURL  string // "new request for this citizen" link pattern with {entry}
}

// LiveDesk is one desk of the online counter that the operator serves.
type LiveDesk struct {
	ID, Name string
	Open     bool
}
