"""Names and words: the corpus lexicon mined at index time, closed place lists, the keyword
tokenizer, and the word lists (data files) they use."""

from retrieval.lexicon.mining import Lexicon, find_places, mine_lexicon
from retrieval.lexicon.places import find_countries, find_provinces
from retrieval.lexicon.tokenizer import STOPWORDS, WordTokenizer

__all__ = ["STOPWORDS", "Lexicon", "WordTokenizer", "find_countries", "find_places", "find_provinces",
           "mine_lexicon"]
