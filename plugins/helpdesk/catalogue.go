package main

// The catalogue of topics a citizen may report on or ask about. The codes
// are stable: they are the form's values, the keys of a town's
// configuration and the service codes of the Open311 API, so a code once
// published is never renamed. A town decides which of them it handles.

// Kinds of request: a problem somewhere in town needs a place; a
// question does not.
const (
	kindProblem = "problem"
	kindRequest = "request"
)

// categoryInformation is the topic of information requests, the only one
// the knowledge base answers.
const categoryInformation = "information"

type category struct {
	Code  string
	Kind  string
	Group string
	// Name, Description and Keywords by language; the names are the
	// form's x-enum-titles, in the same order.
	Name        map[string]string
	Description map[string]string
	Keywords    map[string][]string
}

type group struct {
	Code string
	Name map[string]string
}

var groups = []group{
	{"mobility", map[string]string{"it": "Strade e mobilità", "de": "Straßen und Verkehr", "en": "Roads and traffic"}},
	{"environment", map[string]string{"it": "Ambiente e decoro", "de": "Umwelt und Sauberkeit", "en": "Environment and cleanliness"}},
	{"facilities", map[string]string{"it": "Edifici e strutture comunali", "de": "Gemeindegebäude und -anlagen", "en": "Town buildings and facilities"}},
	{"information", map[string]string{"it": "Informazioni", "de": "Auskünfte", "en": "Information"}},
	{"other", map[string]string{"it": "Altro", "de": "Anderes", "en": "Other"}},
}

var catalogue = []category{
	{Code: "roads", Kind: kindProblem, Group: "mobility",
		Name: map[string]string{"it": "Strade e marciapiedi", "de": "Straßen und Gehwege", "en": "Roads and pavements"},
		Description: map[string]string{
			"it": "Buche, asfalto rovinato, marciapiedi rotti o dissestati.",
			"de": "Schlaglöcher, beschädigter Belag, kaputte oder unebene Gehwege.",
			"en": "Potholes, damaged surfaces, broken or uneven pavements.",
		},
		Keywords: map[string][]string{
			"it": {"buca", "asfalto", "marciapiede", "strada", "dissesto"},
			"de": {"Schlagloch", "Belag", "Gehweg", "Straße"},
			"en": {"pothole", "asphalt", "pavement", "road"},
		}},
	{Code: "street_lighting", Kind: kindProblem, Group: "mobility",
		Name: map[string]string{"it": "Illuminazione pubblica", "de": "Straßenbeleuchtung", "en": "Street lighting"},
		Description: map[string]string{
			"it": "Lampioni spenti, guasti o accesi di giorno.",
			"de": "Straßenlampen, die nicht brennen, defekt sind oder tagsüber leuchten.",
			"en": "Street lights that are out, broken or on during the day.",
		},
		Keywords: map[string][]string{
			"it": {"lampione", "luce", "illuminazione", "buio"},
			"de": {"Straßenlampe", "Licht", "Beleuchtung", "dunkel"},
			"en": {"street light", "lamp", "lighting", "dark"},
		}},
	{Code: "waste", Kind: kindProblem, Group: "environment",
		Name: map[string]string{"it": "Rifiuti e pulizia", "de": "Abfall und Reinigung", "en": "Waste and cleaning"},
		Description: map[string]string{
			"it": "Cassonetti pieni o rotti, rifiuti abbandonati, strade sporche.",
			"de": "Volle oder kaputte Container, illegal entsorgter Abfall, verschmutzte Straßen.",
			"en": "Full or broken bins, dumped rubbish, dirty streets.",
		},
		Keywords: map[string][]string{
			"it": {"rifiuti", "cassonetto", "spazzatura", "pulizia", "abbandono"},
			"de": {"Abfall", "Container", "Müll", "Reinigung"},
			"en": {"waste", "bin", "rubbish", "litter", "cleaning"},
		}},
	{Code: "green_areas", Kind: kindProblem, Group: "environment",
		Name: map[string]string{"it": "Verde pubblico e parchi", "de": "Grünflächen und Parks", "en": "Parks and green areas"},
		Description: map[string]string{
			"it": "Alberi pericolanti, erba alta, siepi da tagliare, giochi rotti nei parchi.",
			"de": "Gefährliche Bäume, hohes Gras, zu schneidende Hecken, kaputte Spielgeräte.",
			"en": "Unsafe trees, long grass, overgrown hedges, broken playground equipment.",
		},
		Keywords: map[string][]string{
			"it": {"albero", "parco", "erba", "giardino", "giochi"},
			"de": {"Baum", "Park", "Gras", "Spielplatz"},
			"en": {"tree", "park", "grass", "playground"},
		}},
	{Code: "graffiti", Kind: kindProblem, Group: "environment",
		Name: map[string]string{"it": "Graffiti e vandalismi", "de": "Graffiti und Vandalismus", "en": "Graffiti and vandalism"},
		Description: map[string]string{
			"it": "Scritte sui muri, panchine, fontane o arredi urbani danneggiati.",
			"de": "Schmierereien, beschädigte Bänke, Brunnen oder Stadtmöbel.",
			"en": "Graffiti, damaged benches, fountains or street furniture.",
		},
		Keywords: map[string][]string{
			"it": {"graffiti", "scritte", "vandalismo", "panchina"},
			"de": {"Graffiti", "Schmiererei", "Vandalismus", "Bank"},
			"en": {"graffiti", "vandalism", "bench", "tag"},
		}},
	{Code: "signage", Kind: kindProblem, Group: "mobility",
		Name: map[string]string{"it": "Segnaletica stradale", "de": "Verkehrszeichen und Markierungen", "en": "Road signs and markings"},
		Description: map[string]string{
			"it": "Cartelli danneggiati o mancanti, strisce sbiadite, semafori guasti.",
			"de": "Beschädigte oder fehlende Schilder, verblasste Markierungen, defekte Ampeln.",
			"en": "Damaged or missing signs, faded markings, broken traffic lights.",
		},
		Keywords: map[string][]string{
			"it": {"cartello", "segnaletica", "semaforo", "strisce"},
			"de": {"Schild", "Verkehrszeichen", "Ampel", "Markierung"},
			"en": {"sign", "traffic light", "markings", "crossing"},
		}},
	{Code: "noise", Kind: kindProblem, Group: "environment",
		Name: map[string]string{"it": "Rumore", "de": "Lärm", "en": "Noise"},
		Description: map[string]string{
			"it": "Rumori molesti da locali, cantieri, impianti o allarmi.",
			"de": "Störender Lärm von Lokalen, Baustellen, Anlagen oder Alarmen.",
			"en": "Disturbing noise from bars, building sites, machinery or alarms.",
		},
		Keywords: map[string][]string{
			"it": {"rumore", "musica", "schiamazzi", "allarme"},
			"de": {"Lärm", "Musik", "Alarm"},
			"en": {"noise", "music", "alarm"},
		}},
	{Code: "abandoned_vehicles", Kind: kindProblem, Group: "mobility",
		Name: map[string]string{"it": "Veicoli abbandonati", "de": "Abgestellte Fahrzeuge", "en": "Abandoned vehicles"},
		Description: map[string]string{
			"it": "Auto, moto o biciclette lasciate a lungo in strada, senza targa o danneggiate.",
			"de": "Autos, Motorräder oder Fahrräder, die lange, ohne Kennzeichen oder beschädigt abgestellt sind.",
			"en": "Cars, motorbikes or bicycles left for a long time, without plates or damaged.",
		},
		Keywords: map[string][]string{
			"it": {"auto", "veicolo", "bicicletta", "targa"},
			"de": {"Auto", "Fahrzeug", "Fahrrad", "Kennzeichen"},
			"en": {"car", "vehicle", "bicycle", "plates"},
		}},
	{Code: "animals", Kind: kindProblem, Group: "environment",
		Name: map[string]string{"it": "Animali", "de": "Tiere", "en": "Animals"},
		Description: map[string]string{
			"it": "Animali randagi, feriti o morti; topi, zanzare o altri infestanti.",
			"de": "Streunende, verletzte oder tote Tiere; Ratten, Mücken oder andere Schädlinge.",
			"en": "Stray, injured or dead animals; rats, mosquitoes or other pests.",
		},
		Keywords: map[string][]string{
			"it": {"cane", "gatto", "topi", "zanzare", "carcassa"},
			"de": {"Hund", "Katze", "Ratten", "Mücken"},
			"en": {"dog", "cat", "rats", "mosquitoes", "pests"},
		}},
	{Code: "water_leaks", Kind: kindProblem, Group: "environment",
		Name: map[string]string{"it": "Perdite d'acqua e fognature", "de": "Wasserlecks und Kanalisation", "en": "Water leaks and sewers"},
		Description: map[string]string{
			"it": "Tubi rotti, acqua che esce dalla strada, tombini intasati, allagamenti.",
			"de": "Rohrbrüche, austretendes Wasser, verstopfte Schächte, Überschwemmungen.",
			"en": "Burst pipes, water coming up from the road, blocked drains, flooding.",
		},
		Keywords: map[string][]string{
			"it": {"acqua", "perdita", "tombino", "fogna", "allagamento"},
			"de": {"Wasser", "Leck", "Schacht", "Kanalisation"},
			"en": {"water", "leak", "drain", "sewer", "flood"},
		}},
	{Code: "public_buildings", Kind: kindProblem, Group: "facilities",
		Name: map[string]string{"it": "Edifici pubblici e scuole", "de": "Öffentliche Gebäude und Schulen", "en": "Public buildings and schools"},
		Description: map[string]string{
			"it": "Guasti e danni in scuole, uffici, biblioteche e impianti sportivi del Comune.",
			"de": "Schäden und Defekte in Schulen, Ämtern, Bibliotheken und Sportanlagen der Gemeinde.",
			"en": "Faults and damage in the town's schools, offices, libraries and sports grounds.",
		},
		Keywords: map[string][]string{
			"it": {"scuola", "palestra", "edificio", "biblioteca"},
			"de": {"Schule", "Turnhalle", "Gebäude", "Bibliothek"},
			"en": {"school", "gym", "building", "library"},
		}},
	{Code: "accessibility", Kind: kindProblem, Group: "mobility",
		Name: map[string]string{"it": "Barriere architettoniche", "de": "Bauliche Barrieren", "en": "Accessibility barriers"},
		Description: map[string]string{
			"it": "Ostacoli per chi ha una disabilità: scivoli mancanti, passaggi bloccati, ascensori fermi.",
			"de": "Hindernisse für Menschen mit Behinderung: fehlende Rampen, blockierte Wege, defekte Aufzüge.",
			"en": "Obstacles for disabled people: missing ramps, blocked paths, lifts out of order.",
		},
		Keywords: map[string][]string{
			"it": {"disabili", "scivolo", "rampa", "ascensore", "carrozzina"},
			"de": {"Behinderung", "Rampe", "Aufzug", "Rollstuhl"},
			"en": {"disability", "ramp", "lift", "wheelchair"},
		}},
	{Code: "cemeteries", Kind: kindProblem, Group: "facilities",
		Name: map[string]string{"it": "Cimiteri", "de": "Friedhöfe", "en": "Cemeteries"},
		Description: map[string]string{
			"it": "Pulizia, manutenzione, fontanelle e illuminazione dei cimiteri comunali.",
			"de": "Reinigung, Unterhalt, Brunnen und Beleuchtung der Gemeindefriedhöfe.",
			"en": "Cleaning, upkeep, taps and lighting of the town's cemeteries.",
		},
		Keywords: map[string][]string{
			"it": {"cimitero", "tomba", "loculo"},
			"de": {"Friedhof", "Grab"},
			"en": {"cemetery", "grave"},
		}},
	{Code: categoryInformation, Kind: kindRequest, Group: "information",
		Name: map[string]string{"it": "Richiesta di informazioni", "de": "Informationsanfrage", "en": "Information request"},
		Description: map[string]string{
			"it": "Una domanda agli uffici del Comune su un servizio, una pratica o un orario.",
			"de": "Eine Frage an die Gemeinde zu einem Dienst, einem Verfahren oder Öffnungszeiten.",
			"en": "A question to the town's offices about a service, a procedure or opening hours.",
		},
		Keywords: map[string][]string{
			"it": {"informazioni", "domanda", "orari", "come fare"},
			"de": {"Auskunft", "Frage", "Öffnungszeiten"},
			"en": {"information", "question", "opening hours", "how to"},
		}},
	{Code: "other", Kind: kindProblem, Group: "other",
		Name: map[string]string{"it": "Altro problema", "de": "Anderes Problem", "en": "Other problem"},
		Description: map[string]string{
			"it": "Un problema in città che non rientra negli altri argomenti.",
			"de": "Ein Problem im Ort, das zu keinem anderen Thema passt.",
			"en": "A problem in town that fits none of the other topics.",
		},
		Keywords: map[string][]string{
			"it": {"altro"},
			"de": {"anderes"},
			"en": {"other"},
		}},
}

// categoryOf finds a topic by its code.
func categoryOf(code string) (category, bool) {
	for _, c := range catalogue {
		if c.Code == code {
			return c, true
		}
	}
	return category{}, false
}

// in is text of a map by language, falling back to Italian.
func in(texts map[string]string, lang string) string {
	if s := texts[base(lang)]; s != "" {
		return s
	}
	return texts["it"]
}

func groupName(code, lang string) string {
	for _, g := range groups {
		if g.Code == code {
			return in(g.Name, lang)
		}
	}
	return code
}
