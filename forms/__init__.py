"""WTForms classes by area: auth, mypage, admin."""
