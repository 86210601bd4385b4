package web

// PaymentData is the Data of the "payment" page: one payment position.
type PaymentData struct {
	ID          int64
	Reason      string
	Amount      string // formatted for the page's language, "€ 50,00"
	Status      string // life-cycle state, e.g. "payment_pending"
	IUV         string
	NoticeCode  string
	Due         string // formatted; "" for none
	PaidAt      string // formatted; "" while unpaid
	DossierURL  string // the request it belongs to; "" for none
	Failure     string
	CanPay      bool // the citizen may pay online now
	AtCounter   bool // to be paid at the counter (or any pagoPA point) with the notice code
	CanRecord   bool // staff may record a payment made at the counter
	CanCancel   bool // staff may cancel the position
	CheckoutURL string
	History     []PaymentEvent
}

// PaymentEvent is one change of a payment's state.
type PaymentEvent struct {
	At     string
	Status string
	Actor  string
}

// PaymentsData is the Data of the "payments" page: the citizen's payments.
type PaymentsData struct {
	Payments []PaymentRow
}

// PaymentRow is one payment in a list.
type PaymentRow struct {
	URL    string `json:"url"`
	Reason string `json:"reason"`
	Amount string `json:"amount"`
	Status string `json:"status"`
	Date   string `json:"date"`
}
