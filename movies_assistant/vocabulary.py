"""The words for genres and languages that questions use, shared by question understanding (query.py)
and the clues hybrid search ranks by (search/clues.py)."""

GENRE_WORDS = {
    r"sci[- ]?fi|science[- ]fiction": "Science Fiction",
    r"animated|animation|cartoons?|anime": "Animation",
    r"comed(y|ies)|funny|rom[- ]?coms?": "Comedy",
    r"romantic|romance|rom[- ]?coms?|love stor(y|ies)": "Romance",
    r"horror|scary": "Horror",
    r"thrillers?": "Thriller",
    r"documentar(y|ies)|docs": "Documentary",
    r"westerns?": "Western",
    r"war (movies?|films?|dramas?|epics?|stor(y|ies))|anti-?war": "War",
    r"musicals?": "Music",
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
