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
