"""Pure rules: functions of values, with no database, clock or network."""
