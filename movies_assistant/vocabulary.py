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
