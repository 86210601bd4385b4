package web

// InfoPage is the Data of template "info": one of the pages every town's
// footer links to (privacy notice, legal notes, accessibility statement,
// questions), in the platform's standard wording naming the town.
type InfoPage struct {
	Paragraphs []string
	// Questions are the FAQ's, each with its answer; empty elsewhere.
	Questions []Question
}

// Question is one entry of the FAQ.
type Question struct{ Q, A string }
