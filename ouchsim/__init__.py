"""ouchsim: an OUCH exchange simulator on Twisted (SoupBinTCP, JNX OUCH, NASDAQ OUCH 4.2)."""

__version__ = "0.1.0"
