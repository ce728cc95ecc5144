"""The documents of a vote: the draft 票决办法 of a round and the record of its adoption, the
scrutineers' 计票报告单 with the photos of the signed paper, and the presidium's 公告 of the result."""
