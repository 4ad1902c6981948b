"""The words for genres and languages that questions use, shared by question understanding (query.py)
and the clues hybrid search ranks by (search/clues.py)."""

GENRE_WORDS = {
    r"sci[- ]?fi|science[- ]fiction": "Science Fiction",
    r"animated|animation|cartoons?|anime": "Animation",
    r"comed(y|ies)|funny|rom[- ]?coms?": "Comedy",
    r"romantic|romance|rom[- ]?coms?|love stor(y|ies)": "Romance",
    r"horror|scary|creepy|spooky|terrifying|frightening": "Horror",
    r"thrillers?": "Thriller",
    r"documentar(y|ies)|docs": "Documentary",
    r"westerns?": "Western",
    r"war (movies?|films?|dramas?|epics?|stor(y|ies))|anti-?war": "War",
    r"musicals?|music|musicians?|composers?": "Music",
    r"family|kids|children'?s": "Family",
    r"crime": "Crime",
    r"myster(y|ies)": "Mystery",
    r"fantasy": "Fantasy",
    r"historical|history": "History",
    r"adventures?": "Adventure",
    r"action": "Action",
    r"dramas?": "Drama",
}
# The first word of each code is how answers name the language (llm/composer.py).
LANGUAGE_WORDS = {
    "french": "fr", "korean": "ko", "japanese": "ja", "anime": "ja", "spanish": "es", "german": "de",
    "italian": "it", "chinese": "zh", "mandarin": "zh", "cantonese": "cn", "hong kong": "cn", "hindi": "hi",
    "bollywood": "hi", "russian": "ru", "swedish": "sv", "danish": "da", "portuguese": "pt", "brazilian": "pt",
    "turkish": "tr", "thai": "th", "persian": "fa", "iranian": "fa", "norwegian": "no", "polish": "pl",
    "english": "en", "dutch": "nl", "greek": "el", "finnish": "fi", "czech": "cs", "hungarian": "hu",
    "arabic": "ar", "hebrew": "he", "israeli": "he", "indonesian": "id", "tamil": "ta", "telugu": "te",
    "mexican": "es", "argentine": "es", "argentinian": "es", "taiwanese": "zh", "austrian": "de",
}

# Moods and descriptors: what people mean by them, as filters (the fields of search `Filters`, plus
# `older_than`: released at least that many years ago) and `words`, searched instead of the mood's own
# words so that "a sad movie" never finds "The Sadness" by its title. `negated` is what "not X",
# "nothing X" or "less X" mean instead. Genres add up: "a fun horror movie" is a horror comedy. A theme
# that is `kept` stays in the search text too ("time travel" is what the films are about).
MOODS = {
    r"sad|tear-?jerkers?|make me (cry|weep)|made me cry|cry(ing)?|weep(y|ie)?|heart-?breaking|depressing|melancholy|"
    r"emotional|heavy(?! metal)": {
        "genres": ["Drama"], "min_votes": 500, "words": "a heartbreaking, emotional story of loss and grief",
        "negated": {"exclude_genres": ["Horror", "War"],
                    "words": "a heartwarming, uplifting story full of hope and friendship"}},
    r"feel[- ]?good|uplifting|heart-?warming|cheer (me )?up|wholesome|hopeful|inspiring|inspirational": {
        "exclude_genres": ["Horror", "War"], "min_rating": 6.5, "min_votes": 500,
        "words": "a heartwarming, uplifting story full of hope and friendship"},
    r"light-?hearted|light|lighter|silly|goofy|hilarious|laugh(s|ing)?|fun": {
        "genres": ["Comedy"], "min_votes": 500, "words": "a funny, lighthearted and charming comedy"},
    r"cozy|cosy|comforting|comfort (movie|film|watch)|relaxing|easy (watch|watching|to watch)|"
    r"rainy (day|sunday|afternoon|evening|night)|lazy (sunday|afternoon|evening)|sunday afternoon": {
        "exclude_genres": ["Horror", "War", "Thriller"], "min_rating": 6.5, "min_votes": 500,
        "words": "a heartwarming, charming story about friendship and family"},
    r"gritty|bleak|grim|disturbing|twisted|darker|dark (and gritty|and twisted|movies?|films?|stor(y|ies)|ones?)": {
        "min_votes": 500, "words": "a grim, disturbing story of crime, corruption and despair",
        "negated": {"exclude_genres": ["Horror"],
                    "words": "a heartwarming, uplifting story full of hope and friendship"}},
    r"gory|gore|bloody|splatter|violent|violence|brutal": {
        "min_votes": 300, "words": "a brutal and bloody story of violence and gore",
        "negated": {"exclude_genres": ["Horror", "War"]}},
    r"intense|gripping|suspenseful|nail-?biting|edge[- ]of[- ](my|your|the) seat|tense|adrenaline": {
        "genres": ["Thriller"], "min_votes": 500, "words": "a tense, gripping story of suspense and danger",
        "negated": {"exclude_genres": ["Thriller", "Horror"]}},
    r"mind-?bending|mind-?blowing|mind-?fuck|trippy|twisty|plot twists?|cerebral|thought-?provoking|"
    r"makes? (you|me) think|confusing|complex|complicated": {
        "min_rating": 7.0, "min_votes": 1000,
        "words": "a puzzling story about reality, dreams and memory with a twist ending",
        "negated": {"words": "a simple, straightforward story"}},
    r"date night|date (movies?|films?)|romantic evening|first date|"
    r"with (my|a) (girlfriend|boyfriend|partner|wife|husband|date)": {
        "genres": ["Romance"], "exclude_genres": ["Horror"], "min_rating": 6.5, "min_votes": 500,
        "words": "a charming, romantic story about a couple falling in love"},
    r"for (the |my |our |your |young |little )?(kids|children|little ones|son|daughter|a child|a kid|toddlers)|"
    r"for (a|my|our) \d+[- ]years?[- ]old|family night|for the whole family|(kid|family|child)[- ]?friendly|"
    r"disney": {
        "genres": ["Family"], "exclude_genres": ["Horror"], "min_votes": 300,
        "words": "a fun family adventure about friendship and magic"},
    r"hidden gems?|underrated|under-?appreciated|under the radar|lesser[- ]known|little[- ]known|overlooked|"
    r"obscure|not (so |very )?well[- ]known|few people (have )?(seen|know)": {
        "min_rating": 7.2, "min_votes": 100, "max_votes": 1500},
    r"classics?|all[- ]time greats?|timeless|golden age|old[- ]school|old (movies|films)": {
        "older_than": 30, "min_rating": 7.5, "min_votes": 1000},
    # themes: their own words stay searched ("kept")
    r"time[- ]travel(l?ing)?|aliens?|outer space|space travel|robots?|dystopian|dystopia|cyberpunk": {
        "genres": ["Science Fiction"], "kept": True},
    r"pixar|ghibli|dreamworks animation|stop[- ]motion|claymation": {"genres": ["Animation"], "kept": True},
    r"subtitles?|subtitled|reading subtitles": {"negated": {"language": "en"}},
    r"long|lengthy": {"negated": {"runtime_max": 120}},
}
# Words that turn what follows into an exclusion: "no horror", "nothing animated", "not too violent".
NEGATIONS = (r"not in the mood for( any\w*)?|no|not|isn'?t|aren'?t|wasn'?t|nothing|none|without|less|non|"
             r"anything but|except|avoid(ing)?|skip(ping)?|never|"
             r"(do ?n[o']?t|doesn'?t|won'?t) (want|like|need|care for|feel like)( any)?|hate|sick of|tired of|"
             r"other than|rather than|instead of|nor|free of|minus")
# A negation reaches at most this many words, and never past these (they start a new wish or say what
# the film is for: "nothing too scary for my kids").
NEGATION_WORDS = 4
NEGATION_END = (r"but|just|only|please|something|anything|maybe|instead|rather|yet|though|with|that|which|for|in|"
                r"from|set|about|made|released|directed|starring|by|like|so|because|since|i|we|my|our")
# After a negation, these negate only the next word: "not too violent thriller" still wants a thriller.
DEGREE_WORDS = r"too|very|so|overly|that|super|particularly|excessively|really|all that"
# Spelled numbers for runtimes, ratings and relative years ("ninety minutes", "the past five years").
NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}
# Vague counts, read as numbers only before a unit ("the past few years", "a couple of hours").
COUNT_WORDS = {"a couple of": 2, "a couple": 2, "couple of": 2, "a few": 3, "few": 3, "several": 3, "a dozen": 12}
FRACTION_WORDS = {"and a half": 0.5, "and a quarter": 0.25, "and three quarters": 0.75}
# Spelled decades: "the sixties", "the nineteen-eighties", "the noughties".
DECADE_WORDS = {
    "twenties": 1920, "thirties": 1930, "forties": 1940, "fifties": 1950, "sixties": 1960, "seventies": 1970,
    "eighties": 1980, "nineties": 1990, "noughties": 2000, "aughts": 2000, "two thousands": 2000,
}

# Words that ask about a film rather than name one: a phrase made only of these (and NOT_NAMES) is
# never linked as a title or person (linking.py), and they do not count as naming something else.
QUESTION_WORDS = frozenset("""
what whats which who whos whom whose when where why how is are was were be been being do does did done
has have had can could would should will shall may might must tell me show give list find get know
about of in on at to for from by with and or but than as so if then also too very much many more most
movie movies film films flick flicks picture one ones thing something anything
director directed directs direct directing made make makes making filmmaker wrote written writer
cast star stars starred starring actor actors actress plays played play playing lead leads role roles
voice voices voiced appear appears appeared acted acts
budget cost costs box office revenue gross grossed earn earned money
long length runtime minutes mins hours hour rated rating ratings score scored votes vote
release released releases come came out year date old older oldest new newer newest recent
plot story storyline summary summarise summarize happens happen review reviews reviewed opinion critique
genre genres kind type language tagline keywords themes status produced producer studio
compare compared comparison versus vs better worse best worst longer shorter higher lower
like liked love loved hate hated think thought worth watching watch see seen good great bad
else other again similar same part sequel prequel
""".split())

# Words that are never a title or a name on their own: pronouns, greetings, moods and numbers.
NOT_NAMES = frozenset("""
i me my mine we us our you your yours he him his she her hers they them their it its this that these
those there here a an the some any all every each no not yes another
hi hello hey thanks thank bye goodbye please ok okay sure cool nice wow lol
sad happy funny scary cry crying tearjerker uplifting depressing dark light cozy cosy feel good
romantic boring fun exciting intense violent gory heavy chill relaxing
zero one two three four five six seven eight nine ten first second third last next
""".split())

# What "longer", "the oldest", "made more money" rank films by (query.py finds the words; the composer
# answers with the film's value of `field`, highest first when `highest`). `than` and `most` are how
# the answer says it for two films and for more.
RANKINGS = {
    "longest": {"field": "runtime", "highest": True, "than": "is longer than", "most": "is the longest",
                "words": r"longer|longest|lengthier|runs? longer|by (length|runtime)"},
    "shortest": {"field": "runtime", "highest": False, "than": "is shorter than", "most": "is the shortest",
                 "words": r"shorter|shortest"},
    "oldest": {"field": "release_date", "highest": False, "than": "came out before", "most": "came out first",
               "words": r"older|oldest|earliest|(came|come|released|comes) (out )?(first|earlier)|oldest first|"
                        r"by (release )?date"},
    "newest": {"field": "release_date", "highest": True, "than": "came out after", "most": "is the newest",
               "words": r"newer|newest|more recent|most recent|(came|come|released|comes) (out )?(last|later)"},
    "highest_revenue": {"field": "revenue", "highest": True, "than": "earned more than", "most": "earned the most",
                        "words": r"(more|most) money|(earned|grossed|made) (more|the most)( money)?|"
                                 r"(higher|highest|bigger|biggest) box office|"
                                 r"highest[- ]grossing|more successful|most successful|bigger hit|biggest hit"},
    "highest_budget": {"field": "budget", "highest": True, "than": "cost more than", "most": "cost the most",
                       "words": r"(bigger|biggest|higher|highest|larger|largest) budget|more expensive|"
                                r"most expensive|cost (more|the most)"},
    "lowest_budget": {"field": "budget", "highest": False, "than": "cost less than", "most": "cost the least",
                      "words": r"(smaller|smallest|lower|lowest) budget|cheaper|cheapest|cost (less|the least)"},
    "most_votes": {"field": "vote_count", "highest": True, "than": "has more votes than", "most": "has the most votes",
                   "words": r"more popular|most popular|(more|most) votes|better known|best known|more famous|"
                            r"most famous"},
    "worst_rated": {"field": "vote_average", "highest": False, "than": "is rated lower than",
                    "most": "is the lowest rated",
                    "words": r"rated (lower|worse|the lowest|lowest|worst)|(lower|worse|lowest|worst)[- ]rated|worse|"
                             r"worst|lower rating|lowest rating"},
    "best_rated": {"field": "vote_average", "highest": True, "than": "is rated higher than",
                   "most": "is the best rated",
                   "words": r"rated (higher|better|the highest|highest|best)|(higher|better|highest|best|top)[- ]rated|"
                            r"better|best|higher rating|highest rating|better rating|best rating|higher score|"
                            r"by (rating|score)"},
}
