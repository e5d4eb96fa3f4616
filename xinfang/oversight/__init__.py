"""The supervisor's practices (issue 17): supervision orders (督办单) with the supervision bulletin
(督查通报) and the upper level's verification of a report-back (核查意见); the review of closed
cases on seven points with rectification (结案审核、整改); proxy handling (代办)."""
